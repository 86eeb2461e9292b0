//! The pixel key and exact region tests behind skytrap's cone, cross-match, ellipse and
//! polygon predicates (the predicates themselves are SQL, in sql/xmatch.sql).
//!
//! How an index answers them: every predicate ends in `xmatch_keys(pixel(ra1, decl1),
//! pixel(ra2, decl2), ra1, decl1, ra2, decl2, radius)`. When one of the two keys is the key
//! of an indexed table, the planner asks `xmatch_keys_support`, which turns the call into
//! `key #= ANY(cone_pixels(other position, radius))`: one btree descent per key range of
//! the other position's cone, in a plain index scan. The call itself stays as the exact
//! test, so the result never depends on the cover, and the side that is not indexed costs
//! nothing beyond its key.

use pgrx::prelude::*;
use pgrx::{is_a, Array, Internal};
use skytrap_core::pixel;
use skytrap_core::pixel::Cone;
use skytrap_core::sky::{self, Position};
use std::cell::{Cell, RefCell};
use std::ffi::CStr;

thread_local! {
    /// The last cone asked about (the bits of ra, decl, radius): a scan asks `cone_pixels`
    /// for its ranges, then `#~` about every key it reads in them.
    static LAST_CONE: RefCell<([u64; 3], Cone)> =
        RefCell::new(([u64::MAX; 3], Cone::new(f64::NAN, 0.0, 0.0, 0.0)));
    /// Keys per steradian that recent cones read, averaged; infinite (assume the densest
    /// index, and read tight ranges) until a cone has been read.
    static DENSITY: Cell<f64> = const { Cell::new(f64::INFINITY) };
}

fn with_cone<T>(ra: f64, decl: f64, radius: f64, f: impl FnOnce(&mut Cone) -> T) -> T {
    let bits = [ra.to_bits(), decl.to_bits(), radius.to_bits()];
    LAST_CONE.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != bits {
            if last.0 != [u64::MAX; 3] {
                let seen = last.1.observed_density();
                let before = DENSITY.get();
                DENSITY.set(if before.is_finite() {
                    0.75 * before + 0.25 * seen
                } else {
                    seen
                });
            }
            *last = (bits, Cone::new(ra, decl, radius, DENSITY.get()));
        }
        f(&mut last.1)
    })
}

// The key, the exact test, and the operators and comparisons a btree calls for every key it
// reads while answering a cone. A cross-match calls them for every pair or key it reads, so
// they are plain version-1 C functions, declared in sql/xmatch.sql: they read their
// arguments' bytes, and #[pg_extern]'s wrapper (argument conversion, memory context
// switch) would cost more than their work. Each is still #[pg_guard]ed: a panic, which
// would abort the backend and restart the whole cluster, becomes an ERROR. (`pixel_wrapper`
// and `xmatch_keys_wrapper` keep the symbol names pgrx gave them in 0.1.0, whose install
// script still names them.)

/// Declares PostgreSQL's version-1 calling convention for C functions (`pg_finfo_<symbol>`).
macro_rules! version_1 {
    ($($finfo:ident),*) => {$(
        #[no_mangle]
        pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
            static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}

version_1!(
    pg_finfo_pixel_wrapper,
    pg_finfo_xmatch_keys_wrapper,
    pg_finfo_skytrap_cone_pixels,
    pg_finfo_skytrap_pixel_in,
    pg_finfo_skytrap_pixel_range_cmp,
    pg_finfo_skytrap_pixel_ranges_cmp,
    pg_finfo_skytrap_pixel_near,
    pg_finfo_skytrap_pixel_circle_cmp
);

/// The n-th argument's datum (the functions are STRICT: never NULL).
unsafe fn arg(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> pg_sys::Datum {
    unsafe { (*fcinfo).args.as_slice(n + 1)[n].value }
}

/// The n-th argument, None if NULL.
unsafe fn nullable_arg(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Option<pg_sys::Datum> {
    let arg = unsafe { (*fcinfo).args.as_slice(n + 1)[n] };
    (!arg.isnull).then_some(arg.value)
}

fn float8(datum: pg_sys::Datum) -> f64 {
    f64::from_bits(datum.value() as u64)
}

/// The SQL NULL result.
unsafe fn null(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe { (*fcinfo).isnull = true };
    pg_sys::Datum::from(0usize)
}

/// `pixel(ra, decl)`: the indexable pixel key of a position (HEALPix nested, depth 29); NULL
/// for a NaN or a declination outside [-90, 90]. Its cost is declared honestly (a HEALPix
/// hash is not free), so the planner prefers probing the index to evaluating the key for
/// every pair.
///
/// # Safety
/// Called by PostgreSQL with two float8, neither NULL (STRICT).
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn pixel_wrapper(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe {
        match pixel::key(float8(arg(fcinfo, 0)), float8(arg(fcinfo, 1))) {
            Some(key) => pg_sys::Datum::from(key),
            None => null(fcinfo),
        }
    }
}

/// `xmatch_keys(key1, key2, ra1, decl1, ra2, decl2, radius)`: are the two positions within
/// `radius` degrees? The keys are the positions' pixel keys: they are not read here, they
/// are what lets an index on either side answer the call (`xmatch_keys_support`). Not
/// STRICT: a position without a key (NaN, infinite, |decl| > 90, whose `pixel` is NULL) is
/// false, like every other position that is not on the sky; NULL only for a NULL coordinate
/// or radius.
///
/// # Safety
/// Called by PostgreSQL with two bigint and five float8, any of them NULL.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn xmatch_keys_wrapper(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe {
        let mut v = [0.0; 5];
        for (n, value) in v.iter_mut().enumerate() {
            match nullable_arg(fcinfo, n + 2) {
                Some(datum) => *value = float8(datum),
                None => return null(fcinfo),
            }
        }
        let [ra1, decl1, ra2, decl2, radius] = v;
        pg_sys::Datum::from(sky::distance(ra1, decl1, ra2, decl2) <= radius)
    }
}

/// Inclusive bounds of an int8range datum, None if empty. In memory an int8range is a
/// varlena header (4 bytes, or 1 when packed in a row), the range type's oid, the bounds that
/// are present (8 bytes each) and a flags byte at the end. A range stored out of line or
/// compressed (a row of many ranges can be) is detoasted first; a datum too short for what
/// its flags say is an ERROR.
unsafe fn key_range(datum: pg_sys::Datum) -> Option<(i64, i64)> {
    unsafe {
        let mut bytes = datum.cast_mut_ptr::<u8>();
        // Headers as PostgreSQL lays them out on a little-endian machine: 0x01 is a 1-byte
        // header pointing out of line, low bits 10 a compressed 4-byte one.
        let first = bytes.read();
        if first == 0x01 || first & 0x03 == 0x02 {
            bytes = pg_sys::pg_detoast_datum_packed(bytes.cast()).cast();
        }
        let (len, header) = if bytes.read() & 0x01 == 0 {
            ((bytes.cast::<u32>().read_unaligned() >> 2) as usize, 4)
        } else {
            (usize::from(bytes.read() >> 1), 1)
        };
        if len < header + 5 {
            error!("skytrap: an int8range of {len} bytes is malformed");
        }
        let flags = u32::from(bytes.add(len - 1).read());
        if flags & pg_sys::RANGE_EMPTY != 0 {
            return None;
        }
        let bounds = usize::from(flags & pg_sys::RANGE_LB_INF == 0)
            + usize::from(flags & pg_sys::RANGE_UB_INF == 0);
        if len < header + 5 + 8 * bounds {
            error!("skytrap: an int8range of {len} bytes is malformed");
        }
        let mut next = bytes.add(header + 4).cast::<i64>().cast_const();
        let lo = if flags & pg_sys::RANGE_LB_INF != 0 {
            i64::MIN
        } else {
            let v = next.read_unaligned();
            next = next.add(1);
            if flags & pg_sys::RANGE_LB_INC != 0 {
                v
            } else {
                v.saturating_add(1)
            }
        };
        let hi = if flags & pg_sys::RANGE_UB_INF != 0 {
            i64::MAX
        } else {
            let v = next.read_unaligned();
            if flags & pg_sys::RANGE_UB_INC != 0 {
                v
            } else {
                v.saturating_sub(1)
            }
        };
        Some((lo, hi))
    }
}

/// `cone_pixels(ra, decl, radius)`: the int8range[] of pixel-key ranges that hold every
/// position within `radius` degrees of (ra, decl), what a btree reads for the cone. It runs
/// once per probe of a join, so the array is written directly: each element an int8range
/// as PostgreSQL stores it (varlena header, type oid, lower and upper bound, flags; the
/// canonical [lo, hi + 1) form), 8-byte aligned.
///
/// # Safety
/// Called by PostgreSQL with three float8, none NULL.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn skytrap_cone_pixels(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    const HEADER: usize = 24; // ArrayType, one dimension and one lower bound, MAXALIGNed
    const RANGE: usize = 25; // header, oid, two bounds, flags
    const STRIDE: usize = 32; // RANGE aligned to 8 (int8range's typalign is 'd')
    unsafe {
        let [ra, decl, radius] = [0, 1, 2].map(|n| float8(arg(fcinfo, n)));
        // Written straight from the cached cone: no copy of its ranges per probe. (An error
        // in palloc0 unwinds through the borrow, which #[pg_guard] allows.)
        let array = with_cone(ra, decl, radius, |cone| {
            let ranges = cone.ranges();
            let n = ranges.len();
            // PostgreSQL's empty array has no dimensions, so no bounds either.
            let size = if n == 0 { 16 } else { HEADER + STRIDE * n };
            let array = pg_sys::palloc0(size).cast::<u8>();
            array.cast::<u32>().write((size as u32) << 2);
            let fields = array.add(4).cast::<u32>();
            fields.write(u32::from(n > 0)); // ndim
            fields.add(1).write(0); // no null bitmap
            fields.add(2).write(pg_sys::INT8RANGEOID.to_u32());
            if n > 0 {
                fields.add(3).write(n as u32); // dims[0]
                fields.add(4).write(1); // lbound[0]
            }
            for (i, &(lo, hi)) in ranges.iter().enumerate() {
                let range = array.add(HEADER + STRIDE * i);
                range.cast::<u32>().write((RANGE as u32) << 2);
                range
                    .add(4)
                    .cast::<u32>()
                    .write(pg_sys::INT8RANGEOID.to_u32());
                range.add(8).cast::<i64>().write(lo);
                range.add(16).cast::<i64>().write(hi + 1);
                range.add(24).write(pg_sys::RANGE_LB_INC as u8);
            }
            array
        });
        pg_sys::Datum::from(array)
    }
}

/// `key #= range`: is the key in the range?
///
/// # Safety
/// Called by PostgreSQL with (bigint, int8range), neither NULL.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn skytrap_pixel_in(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe {
        let key = arg(fcinfo, 0).value() as i64;
        let inside = key_range(arg(fcinfo, 1)).is_some_and(|(lo, hi)| lo <= key && key <= hi);
        pg_sys::Datum::from(inside)
    }
}

/// Btree support: a key against a key range, which sorts as its lower bound (an empty range
/// after every key). A btree positions a scan for `key #= range` with this, at the first key
/// at or above the lower bound, and then reads while `#=` holds. Comparing "inside" as equal
/// would be wrong here: a btree descends right of a separator key that compares equal, and
/// would skip the part of the range left of it.
///
/// # Safety
/// Called by PostgreSQL with (bigint, int8range), neither NULL.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn skytrap_pixel_range_cmp(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe {
        let key = arg(fcinfo, 0).value() as i64;
        let order = match key_range(arg(fcinfo, 1)) {
            None => -1,
            Some((lo, _)) => key.cmp(&lo) as i32,
        };
        pg_sys::Datum::from(order)
    }
}

/// Btree support: key ranges ordered by their bounds, empty ones last (sorts a cone's ranges
/// before the index reads them).
///
/// # Safety
/// Called by PostgreSQL with (int8range, int8range), neither NULL.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn skytrap_pixel_ranges_cmp(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe {
        let order = match (key_range(arg(fcinfo, 0)), key_range(arg(fcinfo, 1))) {
            (None, None) => 0,
            (None, Some(_)) => 1,
            (Some(_), None) => -1,
            (Some(a), Some(b)) => a.cmp(&b) as i32,
        };
        pg_sys::Datum::from(order)
    }
}

/// `key #~ circle`: may the key's position be within the cone (centre ra = x, decl = y,
/// radius, degrees)? Never false for a position that is, nor for a key outside the cone's
/// ranges (the range test ends the scan there). The btree tests each key it reads with it,
/// so rows well outside the cone are never fetched.
///
/// # Safety
/// Called by PostgreSQL with (bigint, circle), neither NULL.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn skytrap_pixel_near(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe {
        let key = arg(fcinfo, 0).value() as i64;
        let circle = arg(fcinfo, 1)
            .cast_mut_ptr::<pg_sys::CIRCLE>()
            .read_unaligned();
        let (ra, decl, radius) = (circle.center.x, circle.center.y, circle.radius);
        pg_sys::Datum::from(with_cone(ra, decl, radius, |cone| cone.may_hold(key)))
    }
}

/// Btree support for `#~`, which a scan never starts from (the key ranges position it): every
/// key sorts after a circle, so a scan on `#~` alone would read the whole index.
///
/// # Safety
/// Called by PostgreSQL with (bigint, circle).
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn skytrap_pixel_circle_cmp(
    _fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    pg_sys::Datum::from(1i32)
}

/// Planner support for `xmatch_keys`: index conditions, and a selectivity from the cone's
/// area (the fraction of the sky it covers) instead of PostgreSQL's default of a third.
#[pg_extern(immutable, strict, parallel_safe)]
fn xmatch_keys_support(request: Internal) -> Internal {
    // "No help" is a null pointer: the planner takes an SQL NULL for an error.
    let no_help = || Internal::from(Some(pg_sys::Datum::from(0usize)));
    let Some(datum) = request.unwrap() else {
        return no_help();
    };
    let node = datum.cast_mut_ptr::<pg_sys::Node>();
    // SAFETY: the planner calls a support function with one of its request nodes.
    unsafe {
        if is_a(node, pg_sys::NodeTag::T_SupportRequestIndexCondition) {
            let conditions = index_conditions(node.cast());
            if !conditions.is_null() {
                return Internal::from(Some(pg_sys::Datum::from(conditions)));
            }
        } else if is_a(node, pg_sys::NodeTag::T_SupportRequestSelectivity) {
            let req = node.cast::<pg_sys::SupportRequestSelectivity>();
            (*req).selectivity = cone_selectivity((*req).args);
            return Internal::from(Some(datum));
        }
    }
    no_help()
}

/// Argument positions in `xmatch_keys(key1, key2, ra1, decl1, ra2, decl2, radius)`.
const RADIUS_ARG: i32 = 6;

/// `key #= ANY(cone_pixels(other position, radius)) AND key #~ circle(point(other
/// position), radius)` for the key that matched the index, if the other position and the
/// radius can be computed before the indexed table is read: the ranges position the scan,
/// the circle drops keys outside the cone before their rows are read.
unsafe fn index_conditions(req: *mut pg_sys::SupportRequestIndexCondition) -> *mut pg_sys::List {
    unsafe {
        let call = (*req).node;
        if !is_a(call, pg_sys::NodeTag::T_FuncExpr) {
            return std::ptr::null_mut();
        }
        let args = (*call.cast::<pg_sys::FuncExpr>()).args;
        let centre = match (*req).indexarg {
            0 => [4, 5, RADIUS_ARG],
            1 => [2, 3, RADIUS_ARG],
            _ => return std::ptr::null_mut(),
        };
        let indexed_rel = (*(*(*req).index).rel).relid as i32;
        let mut cone: Vec<*mut pg_sys::Node> = Vec::with_capacity(3);
        for n in centre {
            let arg = pg_sys::list_nth(args, n).cast::<pg_sys::Node>();
            if pg_sys::bms_is_member(indexed_rel, pg_sys::pull_varnos((*req).root, arg))
                || pg_sys::contain_volatile_functions(arg)
            {
                return std::ptr::null_mut();
            }
            cone.push(arg);
        }
        let in_ranges = operator(c"skytrap.#=", pg_sys::INT8RANGEOID);
        let near = operator(c"skytrap.#~", pg_sys::CIRCLEOID);
        let float8 = pg_sys::FLOAT8OID;
        let cover_fn = function(c"skytrap.cone_pixels", &[float8, float8, float8]);
        let point_fn = function(c"pg_catalog.point", &[float8, float8]);
        let circle_fn = function(c"pg_catalog.circle", &[pg_sys::POINTOID, float8]);
        let opfamily = (*req).opfamily;
        if [in_ranges, near, cover_fn, point_fn, circle_fn].contains(&pg_sys::InvalidOid)
            || !pg_sys::op_in_opfamily(in_ranges, opfamily)
            || !pg_sys::op_in_opfamily(near, opfamily)
        {
            return std::ptr::null_mut();
        }
        let cover = call_of(
            cover_fn,
            pg_sys::INT8RANGEARRAYOID,
            &[cone[0], cone[1], cone[2]],
        );
        let point = call_of(point_fn, pg_sys::POINTOID, &[cone[0], cone[1]]);
        let circle = call_of(circle_fn, pg_sys::CIRCLEOID, &[point, cone[2]]);
        let key = || pg_sys::copyObjectImpl(pg_sys::list_nth(args, (*req).indexarg));

        let mut saop =
            PgBox::<pg_sys::ScalarArrayOpExpr>::alloc_node(pg_sys::NodeTag::T_ScalarArrayOpExpr);
        saop.opno = in_ranges;
        saop.opfuncid = pg_sys::get_opcode(in_ranges);
        saop.useOr = true;
        saop.inputcollid = pg_sys::InvalidOid;
        saop.args = list(&[key().cast(), cover]);
        saop.location = -1;
        let mut near_expr = PgBox::<pg_sys::OpExpr>::alloc_node(pg_sys::NodeTag::T_OpExpr);
        near_expr.opno = near;
        near_expr.opfuncid = pg_sys::get_opcode(near);
        near_expr.opresulttype = pg_sys::BOOLOID;
        near_expr.args = list(&[key().cast(), circle]);
        near_expr.location = -1;
        (*req).lossy = true;
        list(&[saop.into_pg().cast(), near_expr.into_pg().cast()])
    }
}

unsafe fn operator(name: &CStr, right: pg_sys::Oid) -> pg_sys::Oid {
    unsafe { pg_sys::OpernameGetOprid(qualified_name(name), pg_sys::INT8OID, right) }
}

unsafe fn function(name: &CStr, args: &[pg_sys::Oid]) -> pg_sys::Oid {
    unsafe { pg_sys::LookupFuncName(qualified_name(name), args.len() as i32, args.as_ptr(), true) }
}

/// A call of `function` on copies of `args`.
unsafe fn call_of(
    function: pg_sys::Oid,
    returns: pg_sys::Oid,
    args: &[*mut pg_sys::Node],
) -> *mut pg_sys::Node {
    unsafe {
        let copies: Vec<*mut pg_sys::Node> = args
            .iter()
            .map(|a| pg_sys::copyObjectImpl(a.cast()).cast())
            .collect();
        pg_sys::makeFuncExpr(
            function,
            returns,
            list(&copies),
            pg_sys::InvalidOid,
            pg_sys::InvalidOid,
            pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
        )
        .cast()
    }
}

unsafe fn list(items: &[*mut pg_sys::Node]) -> *mut pg_sys::List {
    items.iter().fold(std::ptr::null_mut(), |l, &item| unsafe {
        pg_sys::lappend(l, item.cast())
    })
}

unsafe fn qualified_name(name: &CStr) -> *mut pg_sys::List {
    unsafe { pg_sys::stringToQualifiedNameList(name.as_ptr()) }
}

/// Fraction of the sky within a constant radius; for a radius taken from the rows, that of
/// a 10" cone (a typical association radius).
unsafe fn cone_selectivity(args: *mut pg_sys::List) -> f64 {
    let radius = unsafe {
        let arg = pg_sys::list_nth(args, RADIUS_ARG).cast::<pg_sys::Node>();
        if is_a(arg, pg_sys::NodeTag::T_Const) && !(*arg.cast::<pg_sys::Const>()).constisnull {
            f64::from_datum((*arg.cast::<pg_sys::Const>()).constvalue, false).unwrap_or(0.0)
        } else {
            10.0 / 3600.0
        }
    };
    let fraction = (1.0 - radius.clamp(0.0, 180.0).to_radians().cos()) / 2.0;
    if fraction.is_nan() {
        1e-12
    } else {
        fraction.clamp(1e-12, 1.0)
    }
}

/// The De Ruiter radius between two positions with on-sky uncertainties (degrees).
#[pg_extern(immutable, strict, parallel_safe)]
#[allow(clippy::too_many_arguments)]
fn de_ruiter(
    ra1: f64,
    decl1: f64,
    unc_ew1: f64,
    unc_ns1: f64,
    ra2: f64,
    decl2: f64,
    unc_ew2: f64,
    unc_ns2: f64,
) -> f64 {
    let a = Position {
        ra: ra1,
        dec: decl1,
        unc_ew: unc_ew1,
        unc_ns: unc_ns1,
    };
    let b = Position {
        ra: ra2,
        dec: decl2,
        unc_ew: unc_ew2,
        unc_ns: unc_ns2,
    };
    sky::de_ruiter(&a, &b)
}

/// Exact test: (ra, decl) inside the ellipse (semi-axes and position angle in degrees).
#[pg_extern(immutable, strict, parallel_safe)]
fn in_ellipse_exact(
    ra: f64,
    decl: f64,
    ra0: f64,
    decl0: f64,
    smaj: f64,
    smin: f64,
    pa: f64,
) -> bool {
    sky::in_ellipse(ra, decl, ra0, decl0, smaj, smin, pa)
}

/// The most vertices a polygon may have: its copies live outside PostgreSQL's memory
/// accounting, so a huge array is an ERROR rather than a backend the kernel kills.
const MAX_VERTICES: usize = 100_000;

/// The vertices of a polygon array {ra1, dec1, ra2, dec2, ...} (a multidimensional array
/// is read in storage order, so {{ra1, dec1}, {ra2, dec2}, ...} works too); None if it is
/// not one: an odd number of elements, or a NULL element. More than `MAX_VERTICES` is an
/// ERROR.
fn vertices(polygon: &Array<'_, f64>) -> Option<Vec<(f64, f64)>> {
    let n = polygon.len();
    if n > 2 * MAX_VERTICES {
        error!(
            "skytrap: a polygon of {} vertices; at most {MAX_VERTICES}",
            n / 2
        );
    }
    if !n.is_multiple_of(2) {
        return None;
    }
    let mut values = polygon.iter();
    std::iter::from_fn(|| Some((values.next()?, values.next()?)))
        .map(|(ra, dec)| Some((ra?, dec?)))
        .collect()
}

/// Exact test: (ra, decl) inside the polygon {ra1, dec1, ra2, dec2, ...} (great-circle
/// edges); false for an array that is not a polygon (see `polygon_cone`).
#[pg_extern(immutable, strict, parallel_safe)]
fn in_polygon_exact(ra: f64, decl: f64, polygon: Array<'_, f64>) -> bool {
    vertices(&polygon).is_some_and(|v| sky::in_polygon(ra, decl, &v))
}

/// The cone {ra, dec, radius} that holds a polygon; NULL for a polygon that is not one
/// (odd length, a NULL element, fewer than 3 vertices, a NaN or infinite coordinate or a
/// declination outside [-90, 90], larger than a hemisphere).
#[pg_extern(immutable, strict, parallel_safe)]
fn polygon_cone(polygon: Array<'_, f64>) -> Option<Vec<f64>> {
    sky::polygon_cone(&vertices(&polygon)?).map(|(ra, dec, r)| vec![ra, dec, r])
}
