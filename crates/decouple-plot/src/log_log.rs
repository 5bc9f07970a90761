//! Lines on logarithmic x and y axes, each series with its own points: for
//! cost against size, where a power law `y = c x^k` is a straight line of slope `k`.

use std::fmt::Write as _;

use crate::{Frame, HEIGHT, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, PALETTE, WIDTH, escape};

/// A named series of `(x, y)` points (both positive; others are skipped).
#[derive(Debug, Clone)]
pub struct XySeries {
    /// Legend label.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// The decades `[10^lo, 10^hi]` that cover the positive values, widened to at least one decade.
fn decades(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for value in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(value.log10());
        hi = hi.max(value.log10());
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let (lo, hi) = (lo.floor(), hi.ceil());
    (lo, if hi > lo { hi } else { lo + 1.0 })
}

/// A tick label for `10^exponent * mantissa` (e.g. 0.5, 20, 1000).
fn tick_label(value: f64) -> String {
    if value >= 1.0 { format!("{value:.0}") } else { format!("{value}") }
}

/// Log-log lines: ticks at 1, 2 and 5 times each power of ten, one grid line
/// per decade; series from `dashed_from` on are dashed. Each series is drawn
/// through its own points, so sweeps over different sizes share one chart.
#[must_use]
pub fn log_log(title: &str, x_label: &str, y_label: &str, series: &[XySeries], dashed_from: usize) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    let (x_lo, x_hi) = decades(all().map(|p| p.0));
    let (y_lo, y_hi) = decades(all().map(|p| p.1));
    // The frame's own y axis is linear: take the bare frame and place every
    // tick in log coordinates here.
    let mut frame = Frame::new_bare(title, y_label);
    let plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let to_x = |v: f64| MARGIN_LEFT + (v.log10() - x_lo) / (x_hi - x_lo) * plot_width;
    let to_y = |v: f64| HEIGHT - MARGIN_BOTTOM - (v.log10() - y_lo) / (y_hi - y_lo) * plot_height;
    for exponent in (x_lo as i32)..=(x_hi as i32) {
        for mantissa in [1.0, 2.0, 5.0] {
            let value = mantissa * 10f64.powi(exponent);
            if value.log10() > x_hi + 1e-9 {
                continue;
            }
            let x = to_x(value);
            let stroke = if mantissa == 1.0 { "#bbb" } else { "#eee" };
            let _ = writeln!(
                frame.svg,
                r#"<line x1="{x:.1}" x2="{x:.1}" y1="{MARGIN_TOP}" y2="{}" stroke="{stroke}"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
                HEIGHT - MARGIN_BOTTOM,
                HEIGHT - MARGIN_BOTTOM + 16.0,
                tick_label(value)
            );
        }
    }
    for exponent in (y_lo as i32)..=(y_hi as i32) {
        for mantissa in [1.0, 2.0, 5.0] {
            let value = mantissa * 10f64.powi(exponent);
            if value.log10() > y_hi + 1e-9 {
                continue;
            }
            let y = to_y(value);
            let stroke = if mantissa == 1.0 { "#bbb" } else { "#eee" };
            let _ = writeln!(
                frame.svg,
                r#"<line x1="{MARGIN_LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="{stroke}"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                WIDTH - MARGIN_RIGHT,
                MARGIN_LEFT - 6.0,
                y + 4.0,
                tick_label(value)
            );
        }
    }
    frame.y_axis_line();
    for (index, one) in series.iter().enumerate() {
        let points: Vec<String> = one
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
            .map(|&(x, y)| format!("{:.1},{:.1}", to_x(x), to_y(y)))
            .collect();
        let colour = PALETTE[(index % dashed_from.max(1)) % PALETTE.len()];
        let dash = if index >= dashed_from { r#" stroke-dasharray="4 3""# } else { "" };
        let _ = writeln!(
            frame.svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            escape(&one.name)
        );
        for point in &points {
            let (x, y) = point.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(frame.svg, r#"<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>"#);
        }
    }
    let names: Vec<&str> = series.iter().map(|one| one.name.as_str()).collect();
    frame.legend_coloured(&names, dashed_from, |index| PALETTE[(index % dashed_from.max(1)) % PALETTE.len()]);
    frame.finish(x_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_cover_the_values() {
        assert_eq!(decades([3.0, 40.0].into_iter()), (0.0, 2.0));
        assert_eq!(decades([0.5, 0.7].into_iter()), (-1.0, 0.0));
        assert_eq!(decades([10.0].into_iter()), (1.0, 2.0));
        assert_eq!(decades(std::iter::empty()), (0.0, 1.0));
    }

    #[test]
    fn a_power_law_is_a_straight_line() {
        let series = [XySeries { name: "y = x".into(), points: vec![(1.0, 1.0), (10.0, 10.0), (100.0, 100.0)] }];
        let svg = log_log("t", "x", "y", &series, 1);
        let line = svg.lines().find(|l| l.starts_with("<polyline")).unwrap();
        let points: Vec<(f64, f64)> = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        let slope = |a: (f64, f64), b: (f64, f64)| (b.1 - a.1) / (b.0 - a.0);
        assert!((slope(points[0], points[1]) - slope(points[1], points[2])).abs() < 0.01, "{points:?}");
        assert!(svg.contains(">100</text>") && svg.contains(">2</text>"));
    }

    #[test]
    fn non_positive_points_are_skipped_and_dashed_series_reuse_colours() {
        let series = [
            XySeries { name: "a".into(), points: vec![(1.0, 2.0), (0.0, 1.0), (4.0, -1.0), (8.0, 3.0)] },
            XySeries { name: "b".into(), points: vec![(1.0, 4.0)] },
        ];
        let svg = log_log("t", "x", "y", &series, 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2, "b's line and legend entry");
        assert_eq!(svg.matches(PALETTE[0]).count(), 3 + 2 + 2, "3 circles, and the lines and legend entries of a and b");
    }
}
