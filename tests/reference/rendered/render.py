#!/usr/bin/env python3
"""Sky images rendered independently of skytrap, their truth, and PySE's catalogues of them.

skytrap's simulator computes its truth with the extractor's own WCS and Gaussian, so tests
against it are self-consistent rather than independent. These images are rendered here
with astropy's WCS and numpy alone: every pixel's sky position comes from astropy, and each
source is an elliptical Gaussian on the sky (FWHM axes in arcsec, position angle east of
north) evaluated in the tangent plane at the source.

    python3 -m venv /tmp/pyse-venv && /tmp/pyse-venv/bin/pip install radio-pyse==0.7.1
    /tmp/pyse-venv/bin/python tests/reference/rendered/render.py     # about a minute

It writes, next to itself:

* `field.fits`, `field.truth.csv`: 512 x 512 pixels of 4", rotated by 20 degrees (PC
  matrix), centred at RA 0.1, Dec -30 so that RA 0/360 runs through it; a 20" x 14" beam
  at PA 60 degrees; correlated noise of 100 uJy/beam. Sources from 6 to 100 sigma, a
  quarter of them extended, spread over the whole image; sources 11 and 14 pixels from
  every edge and in the four corners (`kind` edge); eight blended pairs 1 to 2 beams apart
  (`kind` blend).
* `faint_hwhm{1.0,1.5,2.0}.fits`, `.truth.csv`: 384 x 384 pixels of 4", north up, a round
  beam of half width 1, 1.5 and 2 pixels, correlated noise of 100 uJy/beam, and a grid of
  529 point sources of 6, 7, 8, 9 and 10 sigma at whole- and half-pixel offsets.
* `faint_hwhm*.pyse.csv`, `faint_hwhm*.pyse_force_beam.csv`: PySE's catalogues of the
  faint images (detection 5 sigma, analysis 3, background boxes 50, margin 10, per-island
  Gaussian fits; the second with the shape held at the beam).

Truth columns: id, kind, x, y (0-based pixels, from astropy), ra, dec (degrees), peak
(Jy/beam), flux (Jy), smaj, smin (FWHM, arcsec), pa (degrees east of north), snr (peak
over the noise).
"""

import math
import platform
from importlib.metadata import version
from pathlib import Path

import numpy
from astropy.io import fits
from astropy.wcs import WCS

HERE = Path(__file__).resolve().parent
NOISE = 1e-4  # Jy/beam
PIXEL = 4.0  # arcsec
FREQ = 1.4e9
LN2 = math.log(2.0)


def header(size, crval, rotation_deg, beam):
    """A 4-axis image header (RA, Dec, frequency, Stokes) as radio imagers write them."""
    h = fits.Header()
    h["NAXIS"] = 4
    c, s = math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))
    for i, (ctype, val, delt, pix, unit) in enumerate(
        [
            ("RA---SIN", crval[0], -PIXEL / 3600, size / 2 + 1, "deg"),
            ("DEC--SIN", crval[1], PIXEL / 3600, size / 2 + 1, "deg"),
            ("FREQ", FREQ, 1e7, 1.0, "Hz"),
            ("STOKES", 1.0, 1.0, 1.0, ""),
        ],
        start=1,
    ):
        h[f"CTYPE{i}"] = ctype
        h[f"CRVAL{i}"] = val
        h[f"CDELT{i}"] = delt
        h[f"CRPIX{i}"] = pix
        if unit:
            h[f"CUNIT{i}"] = unit
    if rotation_deg:
        h["PC1_1"], h["PC1_2"], h["PC2_1"], h["PC2_2"] = c, -s, s, c
    h["BMAJ"], h["BMIN"], h["BPA"] = beam[0] / 3600, beam[1] / 3600, beam[2]
    h["EQUINOX"] = 2000.0
    h["RADESYS"] = "ICRS"
    h["BUNIT"] = "JY/BEAM"
    h["TELESCOP"] = "RENDERED"
    h["DATE-OBS"] = "2026-12-07T00:00:00.0"
    return h


def sky_gaussian(ra, dec, source):
    """An elliptical Gaussian on the sky at every (ra, dec): gnomonic offsets at the source
    (east, north, arcsec), rotated to the source's axes."""
    ra0, dec0 = math.radians(source["ra"]), math.radians(source["dec"])
    a, d = numpy.radians(ra), numpy.radians(dec)
    cos_c = math.sin(dec0) * numpy.sin(d) + math.cos(dec0) * numpy.cos(d) * numpy.cos(a - ra0)
    east = numpy.cos(d) * numpy.sin(a - ra0) / cos_c
    north = (math.cos(dec0) * numpy.sin(d) - math.sin(dec0) * numpy.cos(d) * numpy.cos(a - ra0)) / cos_c
    east, north = numpy.degrees(east) * 3600, numpy.degrees(north) * 3600
    pa = math.radians(source["pa"])
    along_major = east * math.sin(pa) + north * math.cos(pa)
    along_minor = east * math.cos(pa) - north * math.sin(pa)
    q = (along_major / source["smaj"]) ** 2 + (along_minor / source["smin"]) ** 2
    return source["peak"] * numpy.exp(-4 * LN2 * q)


def convolved(intrinsic, beam):
    """The observed FWHM ellipse (smaj, smin, pa) of an intrinsic ellipse convolved with the
    beam: the sum of their covariances (east, north)."""

    def cov(smaj, smin, pa):
        p = math.radians(pa)
        major = numpy.array([math.sin(p), math.cos(p)])
        minor = numpy.array([math.cos(p), -math.sin(p)])
        return smaj**2 * numpy.outer(major, major) + smin**2 * numpy.outer(minor, minor)

    total = cov(*intrinsic) + cov(*beam)
    values, vectors = numpy.linalg.eigh(total)
    major = vectors[:, 1]
    pa = math.degrees(math.atan2(major[0], major[1])) % 180.0
    return math.sqrt(values[1]), math.sqrt(values[0]), pa


def render(size, crval, rotation, beam, sources, seed):
    """The image: sources plus beam-correlated noise of rms NOISE. Fills each source's x,
    y, ra, dec, flux and snr; returns (header, data)."""
    h = header(size, crval, rotation, beam)
    wcs = WCS(h).celestial
    ys, xs = numpy.mgrid[0:size, 0:size]
    ra, dec = wcs.all_pix2world(xs, ys, 0)
    image = numpy.zeros((size, size))
    for s in sources:
        if "ra" not in s:
            s["ra"], s["dec"] = (float(v) for v in wcs.all_pix2world(s["x"], s["y"], 0))
        else:
            s["x"], s["y"] = (float(v) for v in wcs.all_world2pix(s["ra"], s["dec"], 0))
        s["ra"] %= 360.0
        s["flux"] = s["peak"] * s["smaj"] * s["smin"] / (beam[0] * beam[1])
        s["snr"] = s["peak"] / NOISE
        # Evaluate within 6 FWHM of the source only: beyond, the Gaussian is below 1e-40.
        r = 6 * s["smaj"] / PIXEL
        x0, x1 = max(0, int(s["x"] - r)), min(size, int(s["x"] + r) + 1)
        y0, y1 = max(0, int(s["y"] - r)), min(size, int(s["y"] + r) + 1)
        image[y0:y1, x0:x1] += sky_gaussian(ra[y0:y1, x0:x1], dec[y0:y1, x0:x1], s)
    # White noise convolved with the beam narrowed by sqrt(2) has the beam as its
    # autocorrelation, as an interferometer's image noise does; scaled to rms NOISE.
    rng = numpy.random.default_rng(seed)
    white = rng.standard_normal((size, size))
    centre = {"ra": float(ra[size // 2, size // 2]), "dec": float(dec[size // 2, size // 2])}
    kernel = sky_gaussian(
        ra, dec, dict(centre, peak=1.0, smaj=beam[0] / math.sqrt(2), smin=beam[1] / math.sqrt(2), pa=beam[2])
    )
    kernel = numpy.fft.ifftshift(kernel)
    noise = numpy.real(numpy.fft.ifft2(numpy.fft.fft2(white) * numpy.fft.fft2(kernel)))
    image += noise / noise.std() * NOISE
    return h, image


def write(name, h, image, sources):
    fits.PrimaryHDU(image.astype(numpy.float32)[None, None], header=h).writeto(
        HERE / f"{name}.fits", overwrite=True
    )
    columns = ["id", "kind", "x", "y", "ra", "dec", "peak", "flux", "smaj", "smin", "pa", "snr"]
    with open(HERE / f"{name}.truth.csv", "w") as f:
        f.write(",".join(columns) + "\n")
        for i, s in enumerate(sources):
            s["id"] = i
            f.write(",".join(s[c] if c == "kind" else str(s[c]) if c == "id" else f"{s[c]:.10g}" for c in columns) + "\n")


def field():
    size, beam = 512, (20.0, 14.0, 60.0)
    rng = numpy.random.default_rng(20261207)
    sources = []

    def free(x, y, apart):
        return all(math.hypot(x - s["x"], y - s["y"]) >= apart for s in sources)

    def point(x, y, snr, kind):
        return dict(kind=kind, x=x, y=y, peak=snr * NOISE, smaj=beam[0], smin=beam[1], pa=beam[2])

    # Edges: 11 and 14 pixels from each side (the default margin is 10) and the corners.
    lo, hi = 11.0, size - 1 - 11.0
    for along in (100.0, 256.0, 400.0):
        for d, shift in ((11.0, 0.0), (14.0, 40.0)):
            along += shift
            for x, y in [(d, along), (size - 1 - d, along + 7), (along + 3, d), (along - 5, size - 1 - d)]:
                sources.append(point(x, y, rng.uniform(20, 50), "edge"))
    for x, y in [(lo, lo), (hi, lo), (lo, hi), (hi, hi)]:
        sources.append(point(x, y, rng.uniform(20, 50), "edge"))
    # Blended pairs, 1 to 2 beam FWHM apart along a random direction.
    pixel_fwhm = beam[0] / PIXEL
    for sep in (1.0, 1.25, 1.5, 2.0, 1.0, 1.25, 1.5, 2.0):
        while True:
            x, y = rng.uniform(60, size - 60, 2)
            if free(x, y, 40):
                break
        angle = rng.uniform(0, math.pi)
        dx, dy = 0.5 * sep * pixel_fwhm * math.cos(angle), 0.5 * sep * pixel_fwhm * math.sin(angle)
        snr = rng.uniform(30, 60)
        sources.append(point(x - dx, y - dy, snr, "blend"))
        sources.append(point(x + dx, y + dy, snr / rng.uniform(1, 2), "blend"))
    # Isolated sources anywhere else, at least 30 pixels (6 beams) from any other.
    tries = 0
    while sum(s["kind"] == "isolated" for s in sources) < 120 and tries < 100000:
        tries += 1
        x, y = rng.uniform(20, size - 21, 2)
        if not free(x, y, 30):
            continue
        snr = math.exp(rng.uniform(math.log(6), math.log(100)))
        s = point(x, y, snr, "isolated")
        if rng.uniform() < 0.25:
            intrinsic = (rng.uniform(0.5, 1.5) * beam[0], rng.uniform(0.3, 1.0) * beam[1], rng.uniform(0, 180))
            intrinsic = (max(intrinsic[:2]), min(intrinsic[:2]), intrinsic[2])
            s["smaj"], s["smin"], s["pa"] = convolved(intrinsic, beam)
            # The same integrated flux as a point source of this peak would have.
            s["peak"] *= beam[0] * beam[1] / (s["smaj"] * s["smin"])
        sources.append(s)
    h, image = render(size, (0.1, -30.0), 20.0, beam, sources, seed=1)
    write("field", h, image, sources)
    return len(sources)


def faint(hwhm):
    size = 384
    fwhm = 2 * hwhm * PIXEL
    beam = (fwhm, fwhm, 0.0)
    sources = []
    offsets = [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)]
    k = 0
    for gy in range(16, size - 15, 16):
        for gx in range(16, size - 15, 16):
            dx, dy = offsets[(k // 5) % 4]
            snr = 6 + k % 5
            sources.append(dict(kind="faint", x=gx + dx, y=gy + dy, peak=snr * NOISE, smaj=fwhm, smin=fwhm, pa=0.0))
            k += 1
    h, image = render(size, (150.0, 52.0), 0.0, beam, sources, seed=int(hwhm * 10))
    name = f"faint_hwhm{hwhm:.1f}"
    write(name, h, image, sources)
    return name, len(sources)


PYSE_SETTINGS = dict(
    detection_thr=5.0,
    analysis_thr=3.0,
    back_size_x=50,
    back_size_y=50,
    margin=10,
    deblend_nthresh=0,
    vectorized=False,
)


def pyse(name, force_beam):
    from sourcefinder.accessors import open as open_accessor
    from sourcefinder.accessors import sourcefinder_image_from_accessor
    from sourcefinder.config import Conf, ExportSettings, ImgConf

    conf = Conf(image=ImgConf(force_beam=force_beam, **PYSE_SETTINGS), export=ExportSettings(pandas_df=False))
    image = sourcefinder_image_from_accessor(open_accessor(str(HERE / f"{name}.fits"), plane=0), conf=conf)
    sources = list(image.extract())
    out = HERE / (f"{name}.pyse_force_beam.csv" if force_beam else f"{name}.pyse.csv")
    with open(out, "w") as f:
        f.write(
            f"# PySE's catalogue of {name}.fits: radio-pyse {version('radio-pyse')}, numpy {numpy.__version__}, "
            f"scipy {version('scipy')}, astropy {version('astropy')}, python {platform.python_version()}\n"
        )
        settings = dict(PYSE_SETTINGS, force_beam=force_beam)
        f.write("# settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + "\n")
        f.write("ra,dec,x,y,peak,peak_err,flux,flux_err,fitted\n")
        for d in sources:
            f.write(
                f"{float(d.ra.value):.8f},{float(d.dec.value):.8f},"
                f"{float(d.x.value):.6f},{float(d.y.value):.6f},{float(d.peak.value):.8g},"
                f"{float(d.peak.error):.8g},{float(d.flux.value):.8g},{float(d.flux.error):.8g},"
                f"{int(bool(d.gaussian))}\n"
            )
    return len(sources)


def main():
    print(f"field.fits: {field()} sources", flush=True)
    for hwhm in (1.0, 1.5, 2.0):
        name, n = faint(hwhm)
        print(f"{name}.fits: {n} sources", flush=True)
        for force_beam in (False, True):
            print(f"  PySE{' force_beam' if force_beam else ''}: {pyse(name, force_beam)} sources", flush=True)


if __name__ == "__main__":
    main()
