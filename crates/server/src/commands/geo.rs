//! The geo commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH,
//! GEOSEARCHSTORE and the deprecated GEORADIUS family.
//!
//! A geo index is a plain sorted set whose scores are 52-bit geohashes
//! (Valkey's `geo.c` / `geohash.c` / `geohash_helper.c`): latitude and
//! longitude are each quantised to 26 bits over the Web-Mercator-safe ranges
//! (longitude -180..180, latitude -85.05112878..85.05112878) and interleaved
//! (latitude on the even bits, longitude on the odd ones). Points close on
//! the map then have close scores, so an area search is a handful of score
//! range scans over the geohash box of the centre and its 8 neighbours,
//! followed by an exact distance filter.
//!
//! Everything that is visible to a client follows Valkey exactly: the order
//! of unsorted results (box order, then score order inside a box), the
//! rounding of distances (4 decimals) and coordinates, the error strings and
//! the order in which arguments are checked.

use super::strings::is_kw;
use super::typed;
use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify;
use crate::keyspace::zset::{AddFlags, AddOutcome, ScoreRange, ZSet, ZSetConfig};
use crate::resp::{Args, Reply};
use crate::util::num::{format_fixed_point, parse_f64, parse_i64};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("geoadd", -5, WRITE | DENYOOM, acl::GEO, geoadd)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("geo", "3.2.0", "Adds one or more members to a geospatial index. The key is created if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
        Command::new("geopos", -2, READONLY, acl::GEO, geopos)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("geo", "3.2.0", "Returns the longitude and latitude of members from a geospatial index.", "O(1) for each member requested."),
        Command::new("geodist", -4, READONLY, acl::GEO, geodist)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("geo", "3.2.0", "Returns the distance between two members of a geospatial index.", "O(1)"),
        Command::new("geohash", -2, READONLY, acl::GEO, geohash)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("geo", "3.2.0", "Returns members from a geospatial index as geohash strings.", "O(1) for each member requested."),
        Command::new("geosearch", -7, READONLY, acl::GEO, geosearch)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
        Command::new("geosearchstore", -8, WRITE | DENYOOM, acl::GEO, geosearchstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS)])
            .doc("geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
        Command::new("georadius", -6, WRITE | DENYOOM, acl::GEO, georadius)
            .key_specs(&[
                KeySpec::at(1, RO | ACCESS),
                KeySpec::keyword("STORE", 6, OW | UPDATE),
                KeySpec::keyword("STOREDIST", 6, OW | UPDATE),
            ])
            .keys_fn(georadius_keys)
            .doc("geo", "3.2.0", "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
        Command::new("georadius_ro", -6, READONLY, acl::GEO, georadius_ro)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a coordinate.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
        Command::new("georadiusbymember", -5, WRITE | DENYOOM, acl::GEO, georadiusbymember)
            .key_specs(&[
                KeySpec::at(1, RO | ACCESS),
                KeySpec::keyword("STORE", 5, OW | UPDATE),
                KeySpec::keyword("STOREDIST", 5, OW | UPDATE),
            ])
            .keys_fn(georadius_keys)
            .doc("geo", "3.2.0", "Queries a geospatial index for members within a distance from a member, optionally stores the result.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
        Command::new("georadiusbymember_ro", -5, READONLY, acl::GEO, georadiusbymember_ro)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a member.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."),
    ]
};

/// GEORADIUS's and GEORADIUSBYMEMBER's keys (Valkey's `georadiusGetKeys`):
/// the source, and the key after the last STORE or STOREDIST searched from
/// argument 5 on (the command stores into that one too).
fn georadius_keys(args: &Args<'_>) -> Vec<usize> {
    let mut stored = None;
    let mut i = 5;
    while i < args.len() {
        let a = args.get(i);
        if (is_kw(a, "store") || is_kw(a, "storedist")) && i + 1 < args.len() {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    let mut keys = vec![1];
    keys.extend(stored);
    keys
}

// ---- geohash ---------------------------------------------------------------

/// 26 bits per coordinate: 52 bits fit a double's mantissa exactly.
const STEP_MAX: u8 = 26;
const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
/// Valkey's (slightly unusual) earth radius; distances must match its bytes.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A geohash of `step` bits per coordinate. `bits == 0 && step == 0` is the
/// "no box" marker used for neighbours excluded from a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GeoHash {
    bits: u64,
    step: u8,
}

impl GeoHash {
    const ZERO: GeoHash = GeoHash { bits: 0, step: 0 };

    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash left-aligned to 52 bits: the sorted set score of the box's
    /// lowest corner.
    fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug)]
struct Range {
    min: f64,
    max: f64,
}

const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The box a geohash stands for.
#[derive(Clone, Copy, Debug)]
struct Area {
    lon: Range,
    lat: Range,
}

/// Spreads the 32 bits of `v` onto the even bits of a u64.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// The inverse of [`spread`]: gathers the even bits of `x`.
fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// Latitude on the even bits, longitude on the odd ones.
fn interleave(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// `(lat, lon)` cells of an interleaved hash.
fn deinterleave(bits: u64) -> (u32, u32) {
    (squash(bits), squash(bits >> 1))
}

/// `geohashEncode`: None when the point is outside the geo limits or the
/// given ranges.
fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<GeoHash> {
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * cells;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * cells;
    // Truncation towards zero, as C's double to uint32_t conversion.
    Some(GeoHash {
        bits: interleave(lat_off as u32, lon_off as u32),
        step,
    })
}

fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<GeoHash> {
    encode(LONG_RANGE, LAT_RANGE, lon, lat, step)
}

/// `geohashDecode` over the geo ranges.
fn decode(h: GeoHash) -> Option<Area> {
    if h.is_zero() {
        return None;
    }
    let (ilat, ilon) = deinterleave(h.bits);
    let cells = (1u64 << h.step) as f64;
    let lat_scale = LAT_MAX - LAT_MIN;
    let lon_scale = LONG_MAX - LONG_MIN;
    let (ilat, ilon) = (f64::from(ilat), f64::from(ilon));
    Some(Area {
        lat: Range {
            min: LAT_MIN + (ilat / cells) * lat_scale,
            max: LAT_MIN + ((ilat + 1.0) / cells) * lat_scale,
        },
        lon: Range {
            min: LONG_MIN + (ilon / cells) * lon_scale,
            max: LONG_MIN + ((ilon + 1.0) / cells) * lon_scale,
        },
    })
}

/// The centre of the box a sorted set score stands for, as `[lon, lat]`
/// clamped to the geo limits (`decodeGeohash`).
fn decode_score(score: f64) -> Option<[f64; 2]> {
    // `as` saturates: negative or huge scores decode to some corner instead
    // of being undefined behaviour as in C.
    let area = decode(GeoHash {
        bits: score as u64,
        step: STEP_MAX,
    })?;
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some([lon, lat])
}

/// Moves a hash one cell east (`d > 0`) or west along the longitude bits
/// (the odd ones), wrapping around.
fn move_x(h: &mut GeoHash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    // Filling the other coordinate's bits with ones makes the carry of
    // +1 / -1 ripple across them.
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x = (x | zz).wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    h.bits = x | y;
}

/// Moves a hash one cell north (`d > 0`) or south along the latitude bits.
fn move_y(h: &mut GeoHash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y = (y | zz).wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    h.bits = x | y;
}

fn moved(h: GeoHash, dx: i8, dy: i8) -> GeoHash {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Haversine distance in meters (`geohashGetDistance`).
fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((deg_rad(lon2) - deg_rad(lon1)) / 2.0).sin();
    // Same meridian: only the latitude matters (and it is cheaper).
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

// ---- search shapes ---------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search area: its centre `[lon, lat]`, its size in the request's unit
/// and the unit's size in meters.
#[derive(Clone, Copy, Debug)]
struct Shape {
    xy: [f64; 2],
    conversion: f64,
    kind: ShapeKind,
}

impl Shape {
    /// `[min_lon, min_lat, max_lon, max_lat]` around the shape
    /// (`geohashBoundingBox`).
    fn bounds(&self) -> [f64; 4] {
        let [lon, lat] = self.xy;
        let (half_h, half_w) = match self.kind {
            ShapeKind::Radius(r) => (r, r),
            ShapeKind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let (height, width) = (half_h * self.conversion, half_w * self.conversion);
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let lon_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
        let lon_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
        // The edge closer to the equator is the wider one.
        let delta = if lat < 0.0 {
            lon_delta_bottom
        } else {
            lon_delta_top
        };
        [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
    }

    /// The distance from the centre to `xy` if `xy` is inside the shape
    /// (`geoWithinShape`).
    fn contains(&self, xy: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.xy;
        let [x2, y2] = xy;
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(x1, y1, x2, y2);
                (d <= r * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(y2, y1) > h / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > w / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }
}

/// `geohashEstimateStepsByRadius`: the coarsest step whose cells are still
/// about as large as the search radius.
fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return STEP_MAX;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    // Cells get narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

/// The boxes to scan for `shape`, in Valkey's order: centre, N, S, E, W,
/// NE, NW, SE, SW; excluded neighbours are [`GeoHash::ZERO`]
/// (`geohashCalculateAreasByShapeWGS84`).
fn search_boxes(shape: &Shape) -> [GeoHash; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounds();
    let [lon, lat] = shape.xy;
    let radius = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps(radius, lat);
    let boxes = |steps: u8| {
        let h = encode_wgs84(lon, lat, steps).unwrap_or(GeoHash {
            bits: 0,
            step: steps,
        });
        [
            h,
            moved(h, 0, 1),
            moved(h, 0, -1),
            moved(h, 1, 0),
            moved(h, -1, 0),
            moved(h, 1, 1),
            moved(h, -1, 1),
            moved(h, 1, -1),
            moved(h, -1, -1),
        ]
    };
    let mut b = boxes(steps);
    // Near a cell's edge the estimated step may leave part of the shape
    // outside the 3x3 cells: use cells twice as large then.
    let area = |h: GeoHash| decode(h);
    let too_small = area(b[1]).is_some_and(|a| a.lat.max < max_lat)
        || area(b[2]).is_some_and(|a| a.lat.min > min_lat)
        || area(b[3]).is_some_and(|a| a.lon.max < max_lon)
        || area(b[4]).is_some_and(|a| a.lon.min > min_lon);
    if steps > 1 && too_small {
        steps -= 1;
        b = boxes(steps);
    }
    // Drop the neighbours the shape cannot reach.
    if steps >= 2 {
        if let Some(a) = area(b[0]) {
            if a.lat.min < min_lat {
                for i in [2, 8, 7] {
                    b[i] = GeoHash::ZERO;
                }
            }
            if a.lat.max > max_lat {
                for i in [1, 5, 6] {
                    b[i] = GeoHash::ZERO;
                }
            }
            if a.lon.min < min_lon {
                for i in [4, 8, 6] {
                    b[i] = GeoHash::ZERO;
                }
            }
            if a.lon.max > max_lon {
                for i in [3, 7, 5] {
                    b[i] = GeoHash::ZERO;
                }
            }
        }
    }
    b
}

/// One search result.
struct Point {
    member: Vec<u8>,
    xy: [f64; 2],
    /// Meters until the reply divides by the unit.
    dist: f64,
    score: f64,
}

/// The members of `z` inside `shape`, box after box, each box in score
/// order; stops once `limit` (0: none) were found (`membersOfAllNeighbors`).
fn members_in_shape(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let boxes = search_boxes(shape);
    let mut found = Vec::new();
    // Index of the last box scanned; 0 (the centre) counts as "none", as in
    // Valkey, so a neighbour equal to the centre is still scanned.
    let mut last = 0usize;
    for (i, &h) in boxes.iter().enumerate() {
        if h.is_zero() {
            continue;
        }
        // Huge radii make adjacent neighbours identical: scan them once.
        if last != 0 && h == boxes[last] {
            continue;
        }
        if limit != 0 && found.len() >= limit {
            break;
        }
        let range = ScoreRange {
            min: h.align52() as f64,
            max: GeoHash {
                bits: h.bits + 1,
                step: h.step,
            }
            .align52() as f64,
            minex: false,
            maxex: true,
        };
        let (start, end) = z.score_span(&range);
        if start < end {
            let mut left = end - start;
            z.walk(start, false, |m, s| {
                if let Some(xy) = decode_score(s) {
                    if let Some(dist) = shape.contains(xy) {
                        found.push(Point {
                            member: m.to_vec(),
                            xy,
                            dist,
                            score: s,
                        });
                    }
                }
                left -= 1;
                left > 0 && !(limit != 0 && found.len() >= limit)
            });
        }
        last = i;
    }
    found
}

// ---- argument helpers ------------------------------------------------------

/// Parses a longitude,latitude pair (`extractLongLatOrReply`).
fn lon_lat(out: &mut Reply, lon: &[u8], lat: &[u8]) -> Option<[f64; 2]> {
    let mut xy = [0.0; 2];
    for (v, a) in xy.iter_mut().zip([lon, lat]) {
        match parse_f64(a) {
            Some(f) => *v = f,
            None => {
                out.error(err::NOT_FLOAT);
                return None;
            }
        }
    }
    let [x, y] = xy;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        // C's "%f": six decimals.
        let msg = format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}");
        out.error(msg.as_bytes());
        return None;
    }
    Some(xy)
}

/// A unit's size in meters (`extractUnitOrReply`).
fn unit(out: &mut Reply, u: &[u8]) -> Option<f64> {
    let v = if is_kw(u, "m") {
        1.0
    } else if is_kw(u, "km") {
        1000.0
    } else if is_kw(u, "ft") {
        0.3048
    } else if is_kw(u, "mi") {
        1609.34
    } else {
        out.error(b"ERR unsupported unit provided. please use M, KM, FT, MI");
        return None;
    };
    Some(v)
}

/// A number argument, or the error `msg` when it is not one.
fn size(out: &mut Reply, a: &[u8], msg: &[u8]) -> Option<f64> {
    let Some(v) = parse_f64(a) else {
        out.error(msg);
        return None;
    };
    Some(v)
}

/// `radius unit` (`extractDistanceOrReply`): `(radius, conversion)`.
fn radius_unit(out: &mut Reply, r: &[u8], u: &[u8]) -> Option<(f64, f64)> {
    let radius = size(out, r, b"ERR need numeric radius")?;
    if radius < 0.0 {
        out.error(b"ERR radius cannot be negative");
        return None;
    }
    Some((radius, unit(out, u)?))
}

/// `width height unit` (`extractBoxOrReply`): `(width, height, conversion)`.
fn box_unit(out: &mut Reply, w: &[u8], h: &[u8], u: &[u8]) -> Option<(f64, f64, f64)> {
    let w = size(out, w, b"ERR need numeric width")?;
    let h = size(out, h, b"ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        out.error(b"ERR height or width cannot be negative");
        return None;
    }
    Some((w, h, unit(out, u)?))
}

/// A distance as Valkey replies it: a bulk string with 4 decimals.
fn reply_distance(out: &mut Reply, d: f64) {
    let mut buf = Vec::with_capacity(24);
    format_fixed_point(d, 4, &mut buf);
    out.bulk(&buf);
}

// ---- GEOADD ----------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] lon lat member ...: a ZADD whose scores are the
/// members' geohashes.
fn geoadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut idx = 2;
    while idx < ctx.argc() {
        let opt = ctx.arg(idx);
        if is_kw(opt, "nx") {
            nx = true;
        } else if is_kw(opt, "xx") {
            xx = true;
        } else if is_kw(opt, "ch") {
            ch = true;
        } else {
            break;
        }
        idx += 1;
    }
    let rest = ctx.argc() - idx;
    // Valkey replies a plain syntax error for NX+XX here (its GEOADD checks
    // before handing over to ZADD), and for zero triplets (ZADD's check).
    if !rest.is_multiple_of(3) || rest == 0 || (xx && nx) {
        return ctx.out.error(err::SYNTAX);
    }
    let elements = rest / 3;
    let mut pairs: Vec<(f64, &[u8])> = Vec::with_capacity(elements);
    let mut maxlen = 0;
    for j in 0..elements {
        let at = idx + 3 * j;
        let Some([lon, lat]) = lon_lat(ctx.out, ctx.arg(at), ctx.arg(at + 1)) else {
            return;
        };
        let Some(h) = encode_wgs84(lon, lat, STEP_MAX) else {
            // Unreachable after the range check; reply like Valkey would on
            // a value it cannot encode rather than panic.
            return ctx.out.error(err::NOT_FLOAT);
        };
        let member = ctx.arg(at + 2);
        maxlen = maxlen.max(member.len());
        pairs.push((h.align52() as f64, member));
    }
    let flags = AddFlags {
        nx,
        xx,
        ..AddFlags::default()
    };
    let cfg = ZSetConfig::from_config(&ctx.srv.config);
    let res = typed::write_or_create::<ZSet, _>(
        ctx,
        key,
        || ZSet::with_hints(elements, maxlen, &cfg),
        |z, out| {
            z.maybe_convert(elements, maxlen, &cfg);
            let (mut added, mut updated) = (0usize, 0usize);
            for (s, m) in &pairs {
                match z.add(*s, m, flags, &cfg) {
                    AddOutcome::Added(_) => added += 1,
                    AddOutcome::Updated(_) => updated += 1,
                    AddOutcome::Nan | AddOutcome::Nop | AddOutcome::Same(_) => {}
                }
            }
            out.integer((if ch { added + updated } else { added }) as i64);
            added + updated
        },
    );
    if let Ok(changed) = res {
        if changed > 0 {
            ctx.modified_n(key, changed);
            ctx.notify(notify::ZSET, "zadd", key);
            // Valkey runs GEOADD as the ZADD of the encoded scores, and
            // that is what propagates.
            let scores: Vec<String> = pairs.iter().map(|(s, _)| (*s as u64).to_string()).collect();
            let mut argv: Vec<&[u8]> = vec![b"zadd"];
            argv.extend((1..idx).map(|i| ctx.arg(i)));
            for ((_, m), s) in pairs.iter().zip(&scores) {
                argv.push(s.as_bytes());
                argv.push(m);
            }
            ctx.propagate_as(&argv);
        }
    }
}

// ---- GEOPOS / GEODIST / GEOHASH --------------------------------------------

/// Reads each requested member's score (None: missing key or member).
/// Err after WRONGTYPE was replied.
fn member_scores(ctx: &mut Ctx<'_>, from: usize) -> Result<Vec<Option<f64>>, ()> {
    let key = ctx.arg(1);
    let members: Vec<&[u8]> = (from..ctx.argc()).map(|i| ctx.arg(i)).collect();
    let r = typed::read::<ZSet, _>(ctx, key, |z, _| {
        members.iter().map(|m| z.score(m)).collect::<Vec<_>>()
    })?;
    Ok(r.unwrap_or_else(|| vec![None; members.len()]))
}

fn geopos(ctx: &mut Ctx<'_>) {
    let Ok(scores) = member_scores(ctx, 2) else {
        return;
    };
    ctx.out.array(scores.len());
    for s in scores {
        match s.and_then(decode_score) {
            Some([lon, lat]) => {
                ctx.out.array(2);
                ctx.out.human_double(lon);
                ctx.out.human_double(lat);
            }
            None => ctx.out.null_array(),
        }
    }
}

fn geodist(ctx: &mut Ctx<'_>) {
    let mut to_meter = 1.0;
    if ctx.argc() == 5 {
        let Some(u) = unit(ctx.out, ctx.arg(4)) else {
            return;
        };
        to_meter = u;
    } else if ctx.argc() > 5 {
        return ctx.out.error(err::SYNTAX);
    }
    let key = ctx.arg(1);
    let (m1, m2) = (ctx.arg(2), ctx.arg(3));
    let Ok(r) = typed::read::<ZSet, _>(ctx, key, |z, _| (z.score(m1), z.score(m2))) else {
        return;
    };
    let xy = match r {
        Some((Some(a), Some(b))) => decode_score(a).zip(decode_score(b)),
        _ => None,
    };
    match xy {
        Some(([x1, y1], [x2, y2])) => reply_distance(ctx.out, distance(x1, y1, x2, y2) / to_meter),
        None => ctx.out.null(),
    }
}

/// The standard 11-character geohash of a score: the point is decoded and
/// re-encoded over the usual -90..90 latitude range (Valkey's scores use
/// -85..85), the 11th character stands for bits Valkey does not have (0).
fn standard_geohash(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score)?;
    let h = encode(
        LONG_RANGE,
        Range {
            min: -90.0,
            max: 90.0,
        },
        lon,
        lat,
        STEP_MAX,
    )?;
    let mut buf = [b'0'; 11];
    for (i, c) in buf.iter_mut().enumerate().take(10) {
        let idx = (h.bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    Some(buf)
}

fn geohash(ctx: &mut Ctx<'_>) {
    let Ok(scores) = member_scores(ctx, 2) else {
        return;
    };
    ctx.out.array(scores.len());
    for s in scores {
        match s.and_then(standard_geohash) {
            Some(h) => ctx.out.bulk(&h),
            None => ctx.out.null(),
        }
    }
}

// ---- GEOSEARCH and GEORADIUS -----------------------------------------------

/// Which variant runs `search_generic` (Valkey's `RADIUS_*` / `GEOSEARCH*`
/// flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS[_RO]: centre and radius from the arguments.
    RadiusCoords {
        store: bool,
    },
    /// GEORADIUSBYMEMBER[_RO]: centre from a member.
    RadiusMember {
        store: bool,
    },
    Search,
    SearchStore,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// The parsed request.
struct Request<'a> {
    store_key: Option<&'a [u8]>,
    store_dist: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    any: bool,
    /// 0: unlimited.
    count: usize,
    shape: Shape,
}

fn geosearch(ctx: &mut Ctx<'_>) {
    search_generic(ctx, 1, Variant::Search);
}

fn geosearchstore(ctx: &mut Ctx<'_>) {
    search_generic(ctx, 2, Variant::SearchStore);
}

fn georadius(ctx: &mut Ctx<'_>) {
    search_generic(ctx, 1, Variant::RadiusCoords { store: true });
}

fn georadius_ro(ctx: &mut Ctx<'_>) {
    search_generic(ctx, 1, Variant::RadiusCoords { store: false });
}

fn georadiusbymember(ctx: &mut Ctx<'_>) {
    search_generic(ctx, 1, Variant::RadiusMember { store: true });
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>) {
    search_generic(ctx, 1, Variant::RadiusMember { store: false });
}

const ERR_DECODE_MEMBER: &[u8] = b"ERR could not decode requested zset member";

/// The centre of a search around `member` of `z`.
fn member_xy(z: &ZSet, member: &[u8], out: &mut Reply) -> Option<[f64; 2]> {
    let xy = z.score(member).and_then(decode_score);
    if xy.is_none() {
        out.error(ERR_DECODE_MEMBER);
    }
    xy
}

/// Parses the arguments (with the source `z` when it exists, as FROMMEMBER
/// and GEORADIUSBYMEMBER read it while parsing) and runs the search: the
/// order of checks is Valkey's `georadiusGeneric`. Err after an error reply.
fn parse_and_search<'a>(
    args: &[&'a [u8]],
    z: Option<&ZSet>,
    variant: Variant,
    out: &mut Reply,
) -> Result<(Request<'a>, Vec<Point>), ()> {
    let mut shape = Shape {
        xy: [0.0; 2],
        conversion: 1.0,
        kind: ShapeKind::Radius(0.0),
    };
    let mut req_store_key = None;
    let base = match variant {
        Variant::RadiusCoords { .. } => {
            shape.xy = lon_lat(out, args[2], args[3]).ok_or(())?;
            let (r, c) = radius_unit(out, args[4], args[5]).ok_or(())?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = c;
            6
        }
        Variant::RadiusMember { .. } => {
            if let Some(z) = z {
                shape.xy = member_xy(z, args[2], out).ok_or(())?;
                let (r, c) = radius_unit(out, args[3], args[4]).ok_or(())?;
                shape.kind = ShapeKind::Radius(r);
                shape.conversion = c;
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            req_store_key = Some(args[1]);
            3
        }
    };
    let geosearch = matches!(variant, Variant::Search | Variant::SearchStore);
    let may_store = matches!(
        variant,
        Variant::RadiusCoords { store: true } | Variant::RadiusMember { store: true }
    );
    let mut req = Request {
        store_key: req_store_key,
        store_dist: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        shape,
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let rest = &args[base.min(args.len())..];
    let mut i = 0;
    while i < rest.len() {
        let arg = rest[i];
        let more = rest.len() - i - 1;
        if is_kw(arg, "withdist") {
            req.with_dist = true;
        } else if is_kw(arg, "withhash") {
            req.with_hash = true;
        } else if is_kw(arg, "withcoord") {
            req.with_coord = true;
        } else if is_kw(arg, "any") {
            req.any = true;
        } else if is_kw(arg, "asc") {
            req.sort = Sort::Asc;
        } else if is_kw(arg, "desc") {
            req.sort = Sort::Desc;
        } else if is_kw(arg, "count") && more >= 1 {
            let Some(n) = parse_i64(rest[i + 1]) else {
                out.error(err::NOT_INTEGER);
                return Err(());
            };
            if n <= 0 {
                out.error(b"ERR COUNT must be > 0");
                return Err(());
            }
            req.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is_kw(arg, "store") || is_kw(arg, "storedist")) && more >= 1 && may_store {
            req.store_key = Some(rest[i + 1]);
            req.store_dist = is_kw(arg, "storedist");
            i += 1;
        } else if is_kw(arg, "storedist") && variant == Variant::SearchStore {
            req.store_dist = true;
        } else if is_kw(arg, "frommember") && more >= 1 && geosearch && !fromloc {
            // Without a source key the parsing goes on, so that the reply
            // can follow the STORE flavour (empty array or 0).
            if let Some(z) = z {
                req.shape.xy = member_xy(z, rest[i + 1], out).ok_or(())?;
            }
            frommember = true;
            i += 1;
        } else if is_kw(arg, "fromlonlat") && more >= 2 && geosearch && !frommember {
            req.shape.xy = lon_lat(out, rest[i + 1], rest[i + 2]).ok_or(())?;
            fromloc = true;
            i += 2;
        } else if is_kw(arg, "byradius") && more >= 2 && geosearch && !bybox {
            let (r, c) = radius_unit(out, rest[i + 1], rest[i + 2]).ok_or(())?;
            req.shape.kind = ShapeKind::Radius(r);
            req.shape.conversion = c;
            byradius = true;
            i += 2;
        } else if is_kw(arg, "bybox") && more >= 3 && geosearch && !byradius {
            let (width, height, c) =
                box_unit(out, rest[i + 1], rest[i + 2], rest[i + 3]).ok_or(())?;
            req.shape.kind = ShapeKind::Box { width, height };
            req.shape.conversion = c;
            bybox = true;
            i += 3;
        } else {
            out.error(err::SYNTAX);
            return Err(());
        }
        i += 1;
    }

    if req.store_key.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        let who: &[u8] = if variant == Variant::SearchStore {
            b"GEOSEARCHSTORE"
        } else {
            b"STORE option in GEORADIUS"
        };
        out.error_parts(&[
            b"ERR ",
            who,
            b" is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ]);
        return Err(());
    }
    if geosearch && !(frommember || fromloc) {
        out.error_parts(&[
            b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ",
            args[0],
        ]);
        return Err(());
    }
    if geosearch && !(byradius || bybox) {
        out.error_parts(&[
            b"ERR exactly one of BYRADIUS and BYBOX can be specified for ",
            args[0],
        ]);
        return Err(());
    }
    if req.any && req.count == 0 {
        out.error(b"ERR the ANY argument requires COUNT argument");
        return Err(());
    }
    let Some(z) = z else {
        return Ok((req, Vec::new()));
    };
    // The N closest need sorting; ANY means "any N", unsorted.
    if req.count != 0 && req.sort == Sort::None && !req.any {
        req.sort = Sort::Asc;
    }
    let limit = if req.any { req.count } else { 0 };
    let mut points = members_in_shape(z, &req.shape, limit);
    match req.sort {
        Sort::None => {}
        Sort::Asc => points.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => points.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
    }
    if req.count != 0 {
        points.truncate(req.count);
    }
    Ok((req, points))
}

/// `georadiusGeneric`: `src` is the index of the source key.
fn search_generic(ctx: &mut Ctx<'_>, src: usize, variant: Variant) {
    let key = ctx.arg(src);
    let args: Vec<&[u8]> = (0..ctx.argc()).map(|i| ctx.arg(i)).collect();
    let found = typed::read::<ZSet, _>(ctx, key, |z, out| {
        parse_and_search(&args, Some(z), variant, out)
    });
    let res = match found {
        Err(()) => return,
        Ok(Some(r)) => r,
        Ok(None) => parse_and_search(&args, None, variant, ctx.out),
    };
    let Ok((req, points)) = res else { return };
    let conv = req.shape.conversion;

    let Some(dest) = req.store_key else {
        let opts =
            usize::from(req.with_dist) + usize::from(req.with_hash) + usize::from(req.with_coord);
        ctx.out.array(points.len());
        for p in &points {
            if opts > 0 {
                ctx.out.array(opts + 1);
            }
            ctx.out.bulk(&p.member);
            if req.with_dist {
                reply_distance(ctx.out, p.dist / conv);
            }
            if req.with_hash {
                ctx.out.integer(p.score as i64);
            }
            if req.with_coord {
                ctx.out.array(2);
                ctx.out.human_double(p.xy[0]);
                ctx.out.human_double(p.xy[1]);
            }
        }
        return;
    };

    let n = points.len();
    if n == 0 {
        // An empty result deletes the destination, as Valkey never stores
        // empty sorted sets.
        if typed::store(ctx, dest, ZSet::new()) {
            ctx.modified(dest);
            ctx.notify(notify::GENERIC, "del", dest);
        }
        ctx.out.integer(0);
        return;
    }
    let cfg = ZSetConfig::from_config(&ctx.srv.config);
    let maxlen = points.iter().map(|p| p.member.len()).max().unwrap_or(0);
    let mut z = ZSet::with_hints(n, maxlen, &cfg);
    for p in &points {
        let score = if req.store_dist {
            p.dist / conv
        } else {
            p.score
        };
        z.add(score, &p.member, AddFlags::default(), &cfg);
    }
    typed::store(ctx, dest, z);
    ctx.modified_n(dest, n);
    let event = if matches!(variant, Variant::Search | Variant::SearchStore) {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    ctx.notify(notify::ZSET, event, dest);
    ctx.out.integer(n as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(lon: f64, lat: f64) -> f64 {
        encode_wgs84(lon, lat, STEP_MAX).unwrap().align52() as f64
    }

    fn radius_keys(words: &[&str]) -> Vec<usize> {
        let parts: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        georadius_keys(&crate::resp::OwnedArgs::from_slices(&parts).as_args())
    }

    /// Valkey's `georadiusGetKeys`: from argument 5, the last STORE or
    /// STOREDIST with an argument after it.
    #[test]
    fn georadius_key_finder() {
        let w = [
            "georadius",
            "k",
            "0",
            "0",
            "1",
            "km",
            "STORE",
            "a",
            "STOREDIST",
            "b",
        ];
        assert_eq!(radius_keys(&w), [1, 9]);
        let w = [
            "georadiusbymember",
            "k",
            "m",
            "1",
            "km",
            "storedist",
            "a",
            "STORE",
            "b",
        ];
        assert_eq!(radius_keys(&w), [1, 8]);
        // From index 5 even for GEORADIUS, whose unit is there.
        let w = ["georadius", "k", "0", "0", "1", "store", "x"];
        assert_eq!(radius_keys(&w), [1, 6]);
        // The keyword's argument is skipped: STORE STORE d stores into STORE.
        let w = [
            "georadiusbymember",
            "k",
            "m",
            "1",
            "km",
            "STORE",
            "STORE",
            "d",
        ];
        assert_eq!(radius_keys(&w), [1, 6]);
        let w = ["georadius", "k", "0", "0", "1", "km", "STORE"];
        assert_eq!(radius_keys(&w), [1]);
        let w = ["georadius", "k", "0", "0", "1", "km", "STORE\0x", "d"];
        assert_eq!(radius_keys(&w), [1, 7]);
    }

    #[test]
    fn scores_match_valkey() {
        // From geo.tcl "Check geoset values".
        assert_eq!(score(-74.0131604, 40.7126674), 1791873972053020.0);
        assert_eq!(score(-73.9903085, 40.7362513), 1791875485187452.0);
        assert_eq!(score(-73.7858139, 40.6428986), 1791895905559723.0);
        // Palermo's well-known score.
        assert_eq!(score(13.361389, 38.115556), 3479099956230698.0);
    }

    #[test]
    fn interleave_roundtrip() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            assert_eq!(deinterleave(interleave(a, b)), (a, b));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn geohash_strings() {
        assert_eq!(
            &standard_geohash(score(13.361389, 38.115556)).unwrap(),
            b"sqc8b49rny0"
        );
        assert_eq!(
            &standard_geohash(score(15.087269, 37.502669)).unwrap(),
            b"sqdtr74hyu0"
        );
        assert_eq!(
            &standard_geohash(score(-5.6, 42.6)).unwrap(),
            b"ezs42e44yx0"
        );
    }

    #[test]
    fn distances() {
        let [x1, y1] = decode_score(score(13.361389, 38.115556)).unwrap();
        let [x2, y2] = decode_score(score(15.087269, 37.502669)).unwrap();
        let mut buf = Vec::new();
        format_fixed_point(distance(x1, y1, x2, y2), 4, &mut buf);
        assert_eq!(buf, b"166274.1516");
        assert_eq!(distance(x1, y1, x1, y1), 0.0);
    }

    #[test]
    fn decode_is_centre_of_cell() {
        let [x, y] = decode_score(score(13.361389, 38.115556)).unwrap();
        assert!((x - 13.361389).abs() < 1e-5 && (y - 38.115556).abs() < 1e-5);
        // Garbage scores never panic.
        assert!(decode_score(-1.0).is_some());
        assert!(decode_score(f64::MAX).is_some());
        assert!(decode_score(f64::NAN).is_some());
    }

    #[test]
    fn neighbours_wrap() {
        let h = encode_wgs84(0.0, 0.0, 1).unwrap();
        let e = moved(h, 1, 0);
        assert_ne!(e, h);
        assert_eq!(moved(e, -1, 0), h);
        assert_eq!(moved(moved(h, 0, 1), 0, -1), h);
    }

    #[test]
    fn steps_estimate() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1.0e8, 0.0), 1);
        assert_eq!(estimate_steps(3000.0, 40.0), 12);
    }

    #[test]
    fn table_entries_match_valkey() {
        let get = |n: &str| COMMANDS.iter().find(|c| c.name == n).unwrap();
        assert_eq!(COMMANDS.len(), 10);
        assert_eq!(get("geoadd").arity, -5);
        assert_eq!(get("geosearchstore").arity, -8);
        assert!(get("georadius").has(WRITE) && get("georadius_ro").has(READONLY));
    }
}

/// GEOADD reaches the AOF as the ZADD it runs.
#[cfg(test)]
mod propagation_tests {
    use crate::commands::strings::tests::Harness;
    use crate::persistence::aof;

    #[test]
    fn geoadd_propagates_as_zadd() {
        let mut h = Harness::new();
        aof::capture(&mut h.srv);
        h.cmd("GEOADD g CH 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
        h.cmd("GEOADD g NX 13.361389 38.115556 Palermo");
        let got: Vec<String> = aof::take_captured()
            .into_iter()
            .map(|c| c.join(" "))
            .collect();
        // Valkey's GEOADD doc example scores.
        assert_eq!(
            got,
            [
                "SELECT 0",
                "zadd g CH 3479099956230698 Palermo 3479447370796909 Catania"
            ]
        );
    }
}
