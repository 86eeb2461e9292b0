#!/usr/bin/env python3
"""Reference catalogues for tests/tests/pyse_parity.rs: PySE (radio-pyse 0.7.1, the source
finder TraP uses) run once with TraP's settings on every real image in tests/data/fits.

Run it from anywhere, in a venv that has radio-pyse==0.7.1 (never committed):

    python3 -m venv /tmp/pyse-venv && /tmp/pyse-venv/bin/pip install radio-pyse==0.7.1
    nice /tmp/pyse-venv/bin/python tests/reference/make_pyse_catalogues.py [FITS_DIR]

It writes tests/reference/pyse/<image>.csv (a free elliptical Gaussian fit per island, what
skytrap's extractor does) and tests/reference/pyse/force_beam/<image>.csv (TraP's
job_params `force_beam = True`: shape fixed to the restoring beam). Each file starts with
'#' lines naming the versions, the settings and the beam, then one row per source with
every column PySE measures (units as PySE's SourceParams: pixels, radians, degrees,
arcsec, Jy/beam, Jy), the serialised ew_sys_err/ns_sys_err, and `fitted` (1 when the
Gaussian fit succeeded, 0 when PySE fell back to moments).

Settings (TraP's job_params.cfg defaults, reference section 2.1): detection 8 sigma,
analysis 3 sigma, background boxes 50x50, margin 10, extraction radius 250 pixels,
deblending off, ew_sys_err = ns_sys_err = 10 arcsec; per-island Gaussian fits
(vectorized = False); everything else PySE's own default (8-connected islands,
remove_edge_sources, rms_filter 0.001, interpolation order 1, no median filter, no clean
bias, no flux calibration error, eps_ra = eps_dec = 0).
"""

import math
import platform
import sys
from importlib.metadata import version
from pathlib import Path

import numpy
from sourcefinder.accessors import open as open_accessor
from sourcefinder.accessors import sourcefinder_image_from_accessor
from sourcefinder.config import Conf, ExportSettings, ImgConf

HERE = Path(__file__).resolve().parent
DEFAULT_FITS = HERE.parent / "data" / "fits"

SETTINGS = dict(
    detection_thr=8.0,
    analysis_thr=3.0,
    back_size_x=50,
    back_size_y=50,
    margin=10,
    radius=250.0,
    deblend_nthresh=0,
    vectorized=False,
    ew_sys_err=10.0,
    ns_sys_err=10.0,
)


def images(fits_dir):
    """Every image in the collection, simulated ASKAP epochs included."""
    found = sorted(fits_dir.glob("*.fits")) + sorted(fits_dir.glob("*/*.fits"))
    if not found:
        sys.exit(f"no FITS images in {fits_dir}")
    return found


def fmt(v):
    if v is None:
        return "nan"
    v = float(v)
    return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else str(v))


def run(path, force_beam, out_dir):
    conf = Conf(
        image=ImgConf(force_beam=force_beam, **SETTINGS),
        export=ExportSettings(pandas_df=False),
    )
    params = list(conf.export.source_params) + ["ew_sys_err", "ns_sys_err"]
    conf_out = Conf(
        image=conf.image,
        export=ExportSettings(pandas_df=False, source_params=params),
    )
    accessor = open_accessor(str(path), plane=0)
    image = sourcefinder_image_from_accessor(accessor, conf=conf)
    sources = list(image.extract())
    bmaj, bmin, bpa = accessor.beam
    out = out_dir / (path.stem + ".csv")
    with open(out, "w") as f:
        f.write(f"# PySE reference catalogue of {path.name}\n")
        f.write(
            f"# radio-pyse {version('radio-pyse')}, numpy {numpy.__version__}, "
            f"scipy {version('scipy')}, numba {version('numba')}, "
            f"astropy {version('astropy')}, python {platform.python_version()}\n"
        )
        settings = dict(SETTINGS, force_beam=force_beam)
        f.write("# settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + "\n")
        f.write(
            f"# beam (pixels, HWHM semi-axes; radians): smaj={bmaj!r} smin={bmin!r} "
            f"theta={bpa!r}\n"
        )
        f.write(f"# sources: {len(sources)}\n")
        f.write(",".join(params + ["fitted"]) + "\n")
        for d in sorted(sources, key=lambda d: -float(d.peak.value)):
            row = d.serialize(conf_out, every_parm=True)
            f.write(",".join(fmt(v) for v in row) + f",{int(bool(d.gaussian))}\n")
    return len(sources)


def main():
    fits_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FITS
    for force_beam, sub in [(False, ""), (True, "force_beam")]:
        out_dir = HERE / "pyse" / sub
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in images(fits_dir):
            n = run(path, force_beam, out_dir)
            print(f"{out_dir.relative_to(HERE)}/{path.stem}.csv: {n} sources", flush=True)


if __name__ == "__main__":
    main()
