"""Times skytrap's extraction against PySE (moments and fit modes) and sep on the same
images with the same settings; run by tests/bench/extract.sh, which sets everything up.

Usage: extract.py [--figures FILE SUMMARY_FILE] SKYTRAP WARMUP_IMAGE REPEATS IMAGE...
(each IMAGE beside its simulator's truth.csv). Prints a table of times and ratios; with
--figures also writes them as markdown to FILE, and the row of README.md's speed summary
(the largest image) to SUMMARY_FILE.

Every tool goes from the FITS file to a catalogue with sky positions:
  skytrap  `skytrap extract IMAGE --format csv` (read, background and noise maps, islands,
           moments, elliptical Gaussian fit per island, Condon errors, WCS), run with
           RAYON_NUM_THREADS=1 and =2; the whole process, CSV output to a file included.
  PySE     radio-pyse: open the FITS file (astropy), ImageData.extract() with
           vectorized=True (compiled "tweaked moments", no fit) and vectorized=False
           (a scipy least_squares fit per island, nr_threads=1); it computes errors and sky
           coordinates itself. Numba, OpenMP and BLAS limited to one thread.
  sep      read the plane with astropy.io.fits, sep.Background, sep.extract (isophotal
           moments, no fit), sky positions with astropy.wcs.
Settings: detection 8 sigma, analysis 3 sigma, 50x50-pixel background boxes, a 10-pixel
margin, no deblending, 8-connected islands. sep has one threshold for growing and
detecting: it extracts at 3 sigma of its own noise map (no filter kernel, no deblending,
no cleaning, minarea 1, fw = fh = 1: no median filter of the boxes) and keeps the
objects whose peak pixel is above 8 sigma, which is the same rule.
Import time (a fresh interpreter, median of 3; PySE's numba compiles most of its functions
at import) and the first call (which compiles the rest) on a small image are reported
apart and not counted.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DETECTION, ANALYSIS, BACK_SIZE, MARGIN = 8.0, 3.0, 50, 10


def import_seconds(modules):
    """Median over 3 fresh interpreters of the time to import `modules`."""
    code = (
        "import time; t = time.perf_counter(); "
        + "; ".join(f"import {m}" for m in modules)
        + "; print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True).stdout.split()[-1])
        for _ in range(3)
    ]
    return statistics.median(runs)


def timed(fn, repeats):
    """Median wall time of `repeats` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def skytrap(binary, image, threads, out):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    with open(out, "w") as f:
        subprocess.run([binary, "extract", str(image), "--format", "csv",
                        "--detection-threshold", str(DETECTION), "--analysis-threshold",
                        str(ANALYSIS), "--back-size", str(BACK_SIZE), "--margin", str(MARGIN)],
                       stdout=f, env=env, check=True)
    with open(out) as f:
        next(f)
        return [tuple(float(v) for v in line.split(",")[12:14]) for line in f]


def pyse(image, vectorized):
    from sourcefinder.accessors import open as open_accessor
    from sourcefinder.accessors import sourcefinder_image_from_accessor
    from sourcefinder.config import Conf, ExportSettings, ImgConf

    conf = Conf(
        image=ImgConf(detection_thr=DETECTION, analysis_thr=ANALYSIS, back_size_x=BACK_SIZE,
                      back_size_y=BACK_SIZE, margin=MARGIN, radius=0.0, deblend_nthresh=0,
                      vectorized=vectorized, nr_threads=1),
        export=ExportSettings(pandas_df=False),
    )
    accessor = open_accessor(str(image), plane=0)
    found = sourcefinder_image_from_accessor(accessor, conf=conf).extract()
    # PySE's x and y are 0-based pixel coordinates along NAXIS1 and NAXIS2.
    return [(float(d.x.value), float(d.y.value)) for d in found]


def sep_extract(image):
    import numpy as np
    import sep
    from astropy.io import fits
    from astropy.wcs import WCS

    with fits.open(image) as hdul:
        header = hdul[0].header
        data = hdul[0].data
        data = np.ascontiguousarray(data.reshape(data.shape[-2:]), dtype=np.float32)
    mask = np.ones(data.shape, dtype=bool)
    mask[MARGIN:-MARGIN, MARGIN:-MARGIN] = False
    mask |= ~np.isfinite(data)
    background = sep.Background(data, mask=mask, bw=BACK_SIZE, bh=BACK_SIZE, fw=1, fh=1)
    rms = background.rms()
    objects = sep.extract(data - background.back(), ANALYSIS, err=rms, mask=mask, minarea=1,
                          filter_kernel=None, deblend_cont=1.0, clean=False)
    objects = objects[objects["peak"] > DETECTION * rms[objects["ycpeak"], objects["xcpeak"]]]
    ra, dec = WCS(header).celestial.all_pix2world(objects["x"], objects["y"], 0)
    assert len(ra) == len(objects)
    return list(zip(objects["x"].tolist(), objects["y"].tolist()))


def truth_of(image):
    """Pixel positions of the simulated sources that shine in this image."""
    rows = []
    with open(Path(image).parent / "truth.csv") as f:
        columns = next(f).strip().split(",")
        x, y, epoch, flux = (columns.index(c) for c in ("x", "y", "epoch", "flux"))
        for line in f:
            v = line.strip().split(",")
            if v[epoch] == "1" and float(v[flux]) > 0:
                rows.append((float(v[x]), float(v[y])))
    return rows


def matched(found, truth, radius=2.0):
    """How many true sources have a found source within `radius` pixels."""
    cells = {}
    for x, y in found:
        cells.setdefault((int(x // radius), int(y // radius)), []).append((x, y))
    n = 0
    for x, y in truth:
        cx, cy = int(x // radius), int(y // radius)
        near = (p for i in (-1, 0, 1) for j in (-1, 0, 1) for p in cells.get((cx + i, cy + j), ()))
        n += any((px - x) ** 2 + (py - y) ** 2 <= radius * radius for px, py in near)
    return n


def main():
    args = sys.argv[1:]
    figures = None
    if args[0] == "--figures":
        figures, args = (Path(args[1]), Path(args[2])), args[3:]
    binary, warmup, repeats = args[0], args[1], int(args[2])
    images = [Path(p) for p in args[3:]]
    work = Path(binary).resolve().parent.parent / "bench-extract"
    work.mkdir(exist_ok=True)
    tools = {
        "skytrap_1": ("skytrap, 1 thread", repeats,
                      lambda im: skytrap(binary, im, 1, work / "skytrap.csv")),
        "skytrap_2": ("skytrap, 2 threads", repeats,
                      lambda im: skytrap(binary, im, 2, work / "skytrap.csv")),
        "sep": ("sep", repeats, sep_extract),
        "pyse_moments": ("PySE moments", min(repeats, 3), lambda im: pyse(im, True)),
        "pyse_fit": ("PySE fit", 1, lambda im: pyse(im, False)),
    }

    imports = {"PySE": import_seconds(["sourcefinder.accessors", "sourcefinder.image"]),
               "sep": import_seconds(["numpy", "sep", "astropy.io.fits", "astropy.wcs"])}
    print(f"import time (fresh interpreter, median of 3): PySE {imports['PySE']:.2f} s, "
          f"sep + astropy {imports['sep']:.2f} s")
    first = {}
    for key in ("sep", "pyse_moments", "pyse_fit"):
        t = time.perf_counter()
        tools[key][2](warmup)
        first[key] = time.perf_counter() - t
    print(f"first call, on a {warmup_size(warmup)} image (PySE: numba compiles the rest; not "
          f"counted below): " + ", ".join(f"{tools[k][0]} {v:.2f} s" for k, v in first.items()))
    sys.stdout.flush()

    results = {}
    for image in images:
        truth = truth_of(image)
        for key, (name, n, fn) in tools.items():
            seconds, found = timed(lambda: fn(image), n)
            results[image, key] = (seconds, len(found), matched(found, truth))
            print(f"  {image.parent.name}: {name}: {seconds:.3f} s (median of {n}), "
                  f"{len(found)} sources, {matched(found, truth)} of {len(truth)} true ones",
                  file=sys.stderr, flush=True)

    print()
    print("seconds per image, file to catalogue; sources found (of them matching a true "
          "source within 2 px)")
    header = ["image", "true"] + [tools[k][0] for k in tools]
    rows = []
    for image in images:
        size = image.parent.name
        row = [size, str(len(truth_of(image)))]
        for key in tools:
            s, n, m = results[image, key]
            row.append(f"{s:.3f} ({n}/{m})")
        rows.append(row)
    table(header, rows)

    print()
    print("ratios (goals: PySE fit / skytrap >= 20, PySE moments / skytrap >= 2, "
          "skytrap / sep <= 1.5)")
    header = ["image", "skytrap", "PySE fit / skytrap", "PySE moments / skytrap",
              "skytrap / sep"]
    rows = []
    for image in images:
        for key in ("skytrap_1", "skytrap_2"):
            s = results[image, key][0]
            rows.append([image.parent.name, tools[key][0],
                         f"{results[image, 'pyse_fit'][0] / s:.1f}x",
                         f"{results[image, 'pyse_moments'][0] / s:.1f}x",
                         f"{s / results[image, 'sep'][0]:.2f}x"])
    table(header, rows)
    if figures:
        write_figures(*figures, images, tools, results, imports, first, warmup)


def image_name(image):
    """'4096², 6000 sources' for the simulator's 4096x4096 image of 6000 true sources."""
    return f"{image.parent.name}², {len(truth_of(image))} sources"


def write_figures(path, summary_path, images, tools, results, imports, first, warmup):
    """The figures as markdown for docs/benchmarks.md, and README.md's summary row."""
    def s(image, key):
        return results[image, key][0]

    def ratio(a, b1, b2):
        return f"{a / b1:.1f}× ({a / b2:.1f}×)"

    out = ["Seconds per image, from FITS file to catalogue with sky positions (median of "
           f"{tools['skytrap_1'][1]}; PySE moments of {tools['pyse_moments'][1]}, PySE fit "
           "one run):", ""]
    out.append("| image | " + " | ".join(tools[k][0] for k in tools) + " |")
    out.append("|---" * (len(tools) + 1) + "|")
    for image in images:
        out.append(f"| {image_name(image)} | "
                   + " | ".join(f"{s(image, k):.3f}" for k in tools) + " |")
    out += ["", "How many times faster skytrap is on 1 thread (on 2 in brackets); the goals are "
            "20× PySE's fit mode, 2× its moments mode, and within 1.5× of sep:", "",
            "| image | PySE fit / skytrap | PySE moments / skytrap | sep / skytrap |",
            "|---|---|---|---|"]
    for image in images:
        one, two = s(image, "skytrap_1"), s(image, "skytrap_2")
        out.append(f"| {image_name(image)} | {ratio(s(image, 'pyse_fit'), one, two)} | "
                   f"{ratio(s(image, 'pyse_moments'), one, two)} | "
                   f"{ratio(s(image, 'sep'), one, two)} |")
    out += ["", "Sources found, and of them within 2 pixels of a true source:", "",
            "| image | " + " | ".join(tools[k][0] for k in tools) + " |",
            "|---" * (len(tools) + 1) + "|"]
    for image in images:
        out.append(f"| {image_name(image)} | " + " | ".join(
            f"{results[image, k][1]} / {results[image, k][2]}" for k in tools) + " |")
    out += ["", f"Not counted above: a fresh Python imports PySE in {imports['PySE']:.1f} s "
            f"(numba compiles its functions) and PySE's first extractions, on a "
            f"{warmup_size(warmup)} image, take {first['pyse_moments']:.1f} s (moments) and "
            f"{first['pyse_fit']:.1f} s (fit) more; sep imports with astropy in "
            f"{imports['sep']:.1f} s."]
    path.write_text("\n".join(out) + "\n")
    big = images[-1]
    summary_path.write_text(
        f"| Source finding, a simulated {image_name(big)} | {s(big, 'skytrap_2'):.2f} s on 2 "
        f"threads, {s(big, 'skytrap_1'):.2f} s on 1 | sep {s(big, 'sep'):.2f} s, PySE "
        f"{s(big, 'pyse_moments'):.1f} s (moments) and {s(big, 'pyse_fit'):.1f} s (fit), on 1 "
        "thread | [extraction](docs/benchmarks.md#extraction) |\n")


def warmup_size(path):
    from astropy.io import fits

    h = fits.getheader(path)
    return f"{h['NAXIS1']}x{h['NAXIS2']}"


def table(header, rows):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
