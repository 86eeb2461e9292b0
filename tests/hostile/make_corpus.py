#!/usr/bin/env python3
"""Writes a corpus of broken and adversarial FITS files for `skytrap extract` and `load`.

    python3 tests/hostile/make_corpus.py OUTDIR

Standard library only and deterministic: the same bytes on every run. Every file is a
valid 128 x 128 image (4-D RA/DEC/FREQ/STOKES, SIN projection, 25" x 20" beam, DATE-OBS,
1 mJy/beam noise and five 20-60 mJy Gaussian sources) changed in one way, so each file
tests one thing. `good.fits` is the unchanged base.

OUTDIR/expected.tsv has one row per file, tab-separated, with a header line:

    file      the file name in OUTDIR
    extract   `ok` or `error`: what `skytrap extract FILE` must do
    reason    a substring the one-line error message must contain (empty when ok)
    load      what `skytrap load` must do with the file:
                rejected:N  the header, WCS, beam and DATE-OBS are fine but the pixels are
                            unusable; the image is recorded as rejected with TraP reject
                            reason N (4 'contains NaN', 5 'data is flat', 0 'RMS invalid')
                error       the file cannot be loaded; the error names the file and reason
                ok          the file is odd but valid and loads
    what      what is wrong with the file
"""

import math
import os
import random
import struct
import sys

NX = NY = 128
NOISE = 0.001  # Jy/beam
BLOCK = 2880


def card(key, value=None, comment=None):
    """An 80-column card; value is a Python value or a raw string via Raw."""
    if value is None:
        text = key
    else:
        if isinstance(value, Raw):
            v = value.text
        elif isinstance(value, bool):
            v = "%20s" % ("T" if value else "F")
        elif isinstance(value, int):
            v = "%20d" % value
        elif isinstance(value, float):
            v = "%20s" % repr(value).upper()
        else:
            v = "'%-8s'" % value.replace("'", "''")
        text = "%-8s= %s" % (key, v)
        if comment:
            text += " / " + comment
    if len(text) > 80:
        raise ValueError("card too long: " + text)
    return text.ljust(80)


class Raw:
    """A value written exactly as given (garbage, NaN, ...)."""

    def __init__(self, text):
        self.text = "%20s" % text


def base_cards():
    return [
        card("SIMPLE", True),
        card("BITPIX", -32),
        card("NAXIS", 4),
        card("NAXIS1", NX),
        card("NAXIS2", NY),
        card("NAXIS3", 1),
        card("NAXIS4", 1),
        card("EXTEND", True),
        card("BSCALE", 1.0),
        card("BZERO", 0.0),
        card("BUNIT", "JY/BEAM"),
        card("BMAJ", 25.0 / 3600),
        card("BMIN", 20.0 / 3600),
        card("BPA", 30.0),
        card("EQUINOX", 2000.0),
        card("RADESYS", "FK5"),
        card("CTYPE1", "RA---SIN"),
        card("CRVAL1", 123.4),
        card("CDELT1", -5.0 / 3600),
        card("CRPIX1", 65.0),
        card("CUNIT1", "deg"),
        card("CTYPE2", "DEC--SIN"),
        card("CRVAL2", 56.7),
        card("CDELT2", 5.0 / 3600),
        card("CRPIX2", 65.0),
        card("CUNIT2", "deg"),
        card("CTYPE3", "FREQ"),
        card("CRVAL3", 1.4e8),
        card("CDELT3", 2.0e5),
        card("CRPIX3", 1.0),
        card("CUNIT3", "Hz"),
        card("CTYPE4", "STOKES"),
        card("CRVAL4", 1.0),
        card("CDELT4", 1.0),
        card("CRPIX4", 1.0),
        card("DATE-OBS", "2026-01-01T00:00:00.0"),
        card("TELESCOP", "LOFAR"),
        card("OBJECT", "HOSTILE"),
        card("HISTORY skytrap hostile-input corpus"),
    ]


def key_of(c):
    return c[:8].rstrip()


def set_card(cards, key, value):
    """Replaces the card of `key` (or appends it before END)."""
    new = card(key, value)
    for i, c in enumerate(cards):
        if key_of(c) == key:
            out = list(cards)
            out[i] = new
            return out
    return list(cards) + [new]


def delete(cards, *keys):
    return [c for c in cards if key_of(c) not in keys]


def base_pixels(nx=NX, ny=NY, seed=20261124, noise=NOISE):
    """Noise plus five Gaussian sources of the beam's shape (roughly)."""
    rng = random.Random(seed)
    data = [rng.gauss(0.0, noise) if noise else 0.0 for _ in range(nx * ny)]
    # x, y, peak (Jy/beam); FWHM ~5 x 4 pixels at PA 30 deg.
    sources = [(30.3, 35.7, 0.060), (90.6, 40.2, 0.040), (64.1, 64.4, 0.050),
               (40.8, 95.5, 0.030), (95.2, 92.9, 0.020)]
    smaj, smin = 5.0 / 2.3548, 4.0 / 2.3548
    theta = math.radians(30.0)
    s, c = math.sin(theta), math.cos(theta)
    for (x0, y0, peak) in sources:
        if x0 >= nx or y0 >= ny:
            continue
        for y in range(max(0, int(y0) - 15), min(ny, int(y0) + 16)):
            for x in range(max(0, int(x0) - 15), min(nx, int(x0) + 16)):
                dx, dy = x - x0, y - y0
                u = c * dx + s * dy
                v = c * dy - s * dx
                data[y * nx + x] += peak * math.exp(-0.5 * (u * u / smin ** 2 + v * v / smaj ** 2))
    return data


def f32(values):
    return struct.pack(">%df" % len(values), *values)


def header_bytes(cards, end=True):
    text = "".join(cards) + (card("END") if end else "")
    raw = text.encode("latin-1")
    return raw + b" " * (-len(raw) % BLOCK)


def fits(cards, data, end=True):
    return header_bytes(cards, end) + data + b"\0" * (-len(data) % BLOCK)


def corpus():
    """(name, bytes, extract, reason, load, what) for every kind."""
    cards = base_cards()
    pixels = base_pixels()
    data = f32(pixels)
    good = fits(cards, data)
    n = NX * NY
    out = []

    def add(name, content, extract, reason, load, what):
        out.append((name, content, extract, reason, load, what))

    def mutated(name, new_cards, extract, reason, load, what, new_data=None):
        add(name, fits(new_cards, data if new_data is None else new_data),
            extract, reason, load, what)

    add("good.fits", good, "ok", "", "ok", "the unchanged base image")

    # Not FITS at all, or cut short.
    add("empty.fits", b"", "error", "empty", "error", "a zero-length file")
    add("text.fits", b"This is not a FITS file, just some text.\n" * 100,
        "error", "not a readable FITS file", "error", "a text file")
    add("header_no_end.fits", header_bytes(cards, end=False)[:BLOCK],
        "error", "no END card", "error", "the header is cut off before END")
    add("data_truncated.fits", good[:len(header_bytes(cards)) + len(data) // 2],
        "error", "truncated", "error", "the header is complete, half the pixel data is missing")
    add("header_only.fits", header_bytes(cards),
        "error", "truncated", "error", "a complete header and no pixel data at all")
    add("huge_header_no_end.fits",
        b"".join(card("HISTORY card %d of a header that never ends" % i).encode()
                 for i in range(100_000)),
        "error", "not a readable FITS file", "error",
        "100 000 cards and no END, and no SIMPLE (bounded memory, no hang)")
    add("long_header_no_end.fits",
        header_bytes(cards[:-1] + [card("HISTORY line %d" % i) for i in range(100_000)],
                     end=False),
        "error", "no END card", "error",
        "a valid start, then 100 000 HISTORY cards and no END")

    # Mandatory keywords.
    mutated("no_simple.fits", cards[1:], "error", "SIMPLE", "error",
            "the first card is not SIMPLE")
    mutated("no_naxis.fits", delete(cards, "NAXIS"), "error", "NAXIS", "error",
            "no NAXIS card")
    mutated("naxis0.fits", set_card(delete(cards, "NAXIS1", "NAXIS2", "NAXIS3", "NAXIS4"),
                                    "NAXIS", 0),
            "error", "no image", "error", "NAXIS = 0: a header without data", new_data=b"")
    mutated("naxis1.fits", set_card(delete(cards, "NAXIS2", "NAXIS3", "NAXIS4"), "NAXIS", 1),
            "error", "NAXIS = 1", "error", "a one-dimensional array",
            new_data=f32(pixels[:NX]))
    seven = set_card(cards, "NAXIS", 7)
    for k in (5, 6, 7):
        seven = seven[:7 + k - 5] + [card("NAXIS%d" % k, 1)] + seven[7 + k - 5:]
    mutated("naxis7.fits", seven, "ok", "", "ok",
            "NAXIS = 7 with five degenerate axes (valid)")
    mutated("naxis1_negative.fits", set_card(cards, "NAXIS1", -5), "error",
            "NAXIS1 = -5", "error", "a negative axis length")
    mutated("naxis2_zero.fits", set_card(cards, "NAXIS2", 0), "error",
            "NAXIS2 = 0", "error", "an axis of length 0")
    mutated("naxis_exabytes.fits",
            set_card(set_card(cards, "NAXIS1", 2_000_000_000_000), "NAXIS2", 2_000_000_000_000),
            "error", "NAXIS1 = 2000000000000", "error",
            "axes claiming 1.6e25 bytes (must not try to allocate)")
    mutated("naxis_side_too_big.fits", set_card(cards, "NAXIS1", 10_000_000), "error",
            "NAXIS1 = 10000000", "error", "an axis longer than any real image")
    mutated("naxis_not_integer.fits", set_card(cards, "NAXIS1", 12.5), "error",
            "NAXIS1", "error", "a fractional axis length")
    mutated("cube_zero_axis.fits", set_card(cards, "NAXIS3", 0), "error", "NAXIS3 = 0",
            "error", "a 4-D cube whose FREQ axis has length 0", new_data=b"")
    mutated("cube_two_planes.fits", set_card(cards, "NAXIS3", 2), "error", "NAXIS3 = 2",
            "error", "a cube of two frequency planes (not supported)", new_data=data + data)
    mutated("bitpix12.fits", set_card(cards, "BITPIX", 12), "error", "BITPIX = 12",
            "error", "BITPIX 12 is not a FITS data type")
    mutated("bitpix_garbage.fits", set_card(cards, "BITPIX", Raw("'float'")), "error",
            "BITPIX", "error", "BITPIX is a string")
    mutated("bscale0.fits", set_card(cards, "BSCALE", 0.0), "error", "BSCALE = 0",
            "error", "BSCALE = 0 makes every pixel 0")
    mutated("bzero_nan.fits", set_card(cards, "BZERO", Raw("NaN")), "error", "BZERO",
            "error", "BZERO = NaN")

    # Pixels that are unusable although the header is fine.
    mutated("all_nan.fits", cards, "error", "NaN", "rejected:4", "every pixel NaN",
            new_data=f32([float("nan")] * n))
    mutated("all_zero.fits", cards, "error", "flat", "rejected:5", "every pixel 0",
            new_data=f32([0.0] * n))
    mutated("constant.fits", cards, "error", "flat", "rejected:5", "every pixel 3.5",
            new_data=f32([3.5] * n))
    mutated("all_inf.fits", cards, "error", "infinite", "rejected:0", "every pixel +inf",
            new_data=f32([float("inf")] * n))
    mutated("values_1e38.fits", cards, "ok", "", "rejected:0",
            "pixels scaled to 1e38 (noise 1.6e36 Jy/beam, float32 near overflow): extract "
            "still measures them; load rejects the image as TraP does (rms_qc over rms_est_max)",
            new_data=f32([v * 1.6e39 for v in pixels]))
    model = [v if v > 0.005 else 0.0 for v in base_pixels(noise=0.0)]
    mutated("noiseless.fits", cards, "error", "noise is zero", "rejected:0",
            "a model image: the sources above 5 mJy on exact zeros, so the rms is 0",
            new_data=f32(model))
    mutated("float64.fits", set_card(cards, "BITPIX", -64), "ok", "", "ok",
            "BITPIX -64 (valid)", new_data=struct.pack(">%dd" % n, *pixels))
    # The other integer types, scaled: 8 (unsigned, with BZERO), 32 and 64.
    lo, step8 = -0.006, 0.07 / 255
    mutated("int8_scaled.fits",
            set_card(set_card(set_card(cards, "BITPIX", 8), "BSCALE", step8), "BZERO", lo),
            "ok", "", "ok", "BITPIX 8 with BSCALE and BZERO (valid)",
            new_data=struct.pack(">%dB" % n,
                                 *[max(0, min(255, round((v - lo) / step8))) for v in pixels]))
    mutated("int32_scaled.fits", set_card(set_card(cards, "BITPIX", 32), "BSCALE", 1e-9),
            "ok", "", "ok", "BITPIX 32 with BSCALE (valid)",
            new_data=struct.pack(">%di" % n, *[round(v / 1e-9) for v in pixels]))
    mutated("int64_scaled.fits", set_card(set_card(cards, "BITPIX", 64), "BSCALE", 1e-12),
            "ok", "", "ok", "BITPIX 64 with BSCALE (valid)",
            new_data=struct.pack(">%dq" % n, *[round(v / 1e-12) for v in pixels]))
    int_cards = set_card(set_card(set_card(cards, "BITPIX", 16), "BLANK", -32768),
                         "BSCALE", 1e-5)
    mutated("int16_all_blank.fits", int_cards, "error", "NaN", "rejected:4",
            "BITPIX 16 with every pixel BLANK",
            new_data=struct.pack(">%dh" % n, *([-32768] * n)))
    mutated("int16_scaled.fits", int_cards, "ok", "", "ok",
            "BITPIX 16 with BSCALE and BLANK (valid)",
            new_data=struct.pack(">%dh" % n,
                                 *[max(-32767, min(32767, round(v / 1e-5))) for v in pixels]))

    # Too small for the default 10-pixel margin.
    for side in (1, 3):
        small = set_card(set_card(set_card(set_card(cards, "NAXIS1", side), "NAXIS2", side),
                                  "CRPIX1", (side + 1) / 2), "CRPIX2", (side + 1) / 2)
        mutated("tiny_%dx%d.fits" % (side, side), small, "error", "margin", "error",
                "a %d x %d image" % (side, side),
                new_data=f32(base_pixels(side, side)))

    # World coordinates.
    mutated("no_ctype.fits", delete(cards, "CTYPE1", "CTYPE2"), "error", "CTYPE1", "error",
            "no CTYPE1/CTYPE2: no WCS")
    mutated("unknown_projection.fits",
            set_card(set_card(cards, "CTYPE1", "RA---XYZ"), "CTYPE2", "DEC--XYZ"),
            "error", "XYZ", "error", "projection code XYZ")
    mutated("cdelt_zero.fits", set_card(cards, "CDELT1", 0.0), "error", "CDELT1 = 0",
            "error", "CDELT1 = 0")
    mutated("cdelt_huge.fits", set_card(set_card(cards, "CDELT1", -1e300), "CDELT2", 1e300),
            "error", "CDELT1", "error", "pixels of 1e300 degrees")
    cd = delete(cards, "CDELT1", "CDELT2")
    for k, v in (("CD1_1", -1e-3), ("CD1_2", 2e-3), ("CD2_1", -1e-3), ("CD2_2", 2e-3)):
        cd = set_card(cd, k, v)
    mutated("singular_cd.fits", cd, "error", "singular", "error",
            "a CD matrix with determinant 0")
    mutated("two_dec_axes.fits", set_card(cards, "CTYPE1", "DEC--SIN"), "error",
            "RA and DEC", "error", "axes 1 and 2 both DEC")
    mutated("no_ra_axis.fits", set_card(cards, "CTYPE1", "GLON-SIN"), "error",
            "RA and DEC", "error", "axis 1 galactic longitude: no RA axis")
    mutated("swapped_axes.fits",
            set_card(set_card(cards, "CTYPE1", "DEC--SIN"), "CTYPE2", "RA---SIN"),
            "error", "not a declination", "error",
            "CTYPE1 and CTYPE2 swapped, nothing else: DEC's CRVAL is then 123.4")
    renamed = {k + a: k + b for k in ("NAXIS", "CTYPE", "CRVAL", "CDELT", "CRPIX", "CUNIT")
               for a, b in (("1", "2"), ("2", "1"))}
    transposed = [renamed.get(key_of(c), key_of(c)).ljust(8) + c[8:] for c in cards]
    mutated("transposed_axes.fits", transposed, "ok", "", "ok",
            "DEC along NAXIS1 and RA along NAXIS2, pixels stored accordingly (valid)",
            new_data=f32([pixels[y * NX + x] for x in range(NX) for y in range(NY)]))
    mutated("crval2_out_of_range.fits", set_card(cards, "CRVAL2", 95.0), "error",
            "CRVAL2 = 95", "error", "reference declination 95 degrees")
    mutated("crpix_absurd.fits", set_card(set_card(cards, "CRPIX1", 1e300), "CRPIX2", -1e300),
            "error", "CRPIX1", "error", "reference pixel 1e300 pixels away")
    mutated("garbage_number.fits", set_card(cards, "CRVAL1", Raw("12.3.4")), "error",
            "CRVAL1", "error", "CRVAL1 = 12.3.4 (not a number)")
    mutated("number_as_string.fits", set_card(cards, "CRPIX2", "sixty-five"), "error",
            "CRPIX2", "error", "CRPIX2 is a string")

    # Frequency, beam, time.
    mutated("no_frequency.fits", delete(cards, "CTYPE3", "CRVAL3", "CDELT3", "CRPIX3", "CUNIT3"),
            "error", "no frequency", "error", "no FREQ axis and no RESTFRQ")
    mutated("no_beam.fits", delete(cards, "BMAJ", "BMIN", "BPA"), "error",
            "no restoring beam", "error", "no BMAJ/BMIN and no AIPS CLEAN history")
    mutated("bmaj_zero.fits", set_card(cards, "BMAJ", 0.0), "error", "BMAJ", "error",
            "BMAJ = 0")
    mutated("bmaj_negative.fits", set_card(cards, "BMAJ", -0.01), "error", "BMAJ", "error",
            "BMAJ < 0")
    mutated("bmaj_nan.fits", set_card(cards, "BMAJ", Raw("NaN")), "error", "BMAJ", "error",
            "BMAJ = NaN")
    mutated("bmin_gt_bmaj.fits", set_card(cards, "BMIN", 0.01), "error", "BMIN", "error",
            "BMIN larger than BMAJ")
    mutated("beam_huge.fits", set_card(set_card(cards, "BMAJ", 90.0), "BMIN", 80.0), "error",
            "beam", "error", "a 90-degree beam on a 0.2-degree image")
    mutated("bpa_garbage.fits", set_card(cards, "BPA", Raw("north")), "error", "BPA", "error",
            "BPA = north (not a number)")
    mutated("no_date_obs.fits", delete(cards, "DATE-OBS"), "ok", "", "error",
            "no DATE-OBS: extraction works, loading needs the time")
    mutated("bad_date_obs.fits", set_card(cards, "DATE-OBS", "yesterday"), "ok", "", "error",
            "DATE-OBS = yesterday")
    mutated("date_obs_non_ascii.fits", set_card(cards, "DATE-OBS", "2026-01-0\xe9T00:00:00"),
            "ok", "", "error", "a non-ASCII byte inside DATE-OBS")
    mutated("non_ascii_header.fits", set_card(cards, "OBJECT", "caf\xe9 \xff\x80"), "ok", "",
            "ok", "bytes 0xE9, 0xFF and 0x80 in the OBJECT card")
    mutated("non_ascii_keyword.fits", set_card(cards, "CTYPE1", "RA---S\xefN"), "error",
            "CTYPE1", "error", "a non-ASCII byte inside CTYPE1")
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rows = ["file\textract\treason\tload\twhat"]
    names = set()
    for name, content, extract, reason, load, what in corpus():
        assert name not in names, name
        names.add(name)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(content)
        rows.append("\t".join((name, extract, reason, load, what)))
    with open(os.path.join(outdir, "expected.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    print("%d files in %s" % (len(names), outdir))


if __name__ == "__main__":
    main()
