//! Minimal SVG charts (grouped bars, lines, heatmaps, histograms) written as
//! plain text: deterministic output, no font or system-library dependency.

use std::fmt::Write as _;

mod grid;
mod log_log;
pub use grid::{ImagePanel, image_grid};
pub use log_log::{XySeries, log_log};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 460.0;
const MARGIN_LEFT: f64 = 120.0;
const MARGIN_RIGHT: f64 = 170.0;
const MARGIN_TOP: f64 = 40.0;
const MARGIN_BOTTOM: f64 = 110.0;
/// Colour cycle for series (colour-blind friendly, Okabe-Ito).
pub const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

/// One named series of values.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// One value per category (bars) or per x (lines); NaN is skipped.
    pub values: Vec<f64>,
}

/// The nearest "nice" tick step (1, 2, 2.5 or 5 times a power of ten) to `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.abs().max(1e-12).log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 2.5 {
        2.5
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

struct Frame {
    svg: String,
    y_min: f64,
    y_max: f64,
}

impl Frame {
    fn new(title: &str, y_label: &str, y_min: f64, y_max: f64) -> Self {
        let mut frame = Self::new_bare(title, y_label);
        (frame.y_min, frame.y_max) = (y_min, y_max);
        frame.y_axis();
        frame.y_axis_line();
        frame
    }

    /// The vertical axis line at the left edge of the plot.
    fn y_axis_line(&mut self) {
        let _ = writeln!(
            self.svg,
            r#"<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" y2="{}" stroke="black"/>"#,
            HEIGHT - MARGIN_BOTTOM
        );
    }

    /// The canvas, title and y label, without a y axis.
    fn new_bare(title: &str, y_label: &str) -> Self {
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(svg, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, WIDTH / 2.0, escape(title));
        let _ = writeln!(
            svg,
            r#"<text transform="translate(18,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (MARGIN_TOP + HEIGHT - MARGIN_BOTTOM) / 2.0,
            escape(y_label)
        );
        Self { svg, y_min: 0.0, y_max: 1.0 }
    }

    fn plot_width() -> f64 {
        WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    }

    fn y(&self, value: f64) -> f64 {
        let fraction = (value - self.y_min) / (self.y_max - self.y_min);
        HEIGHT - MARGIN_BOTTOM - fraction.clamp(-0.05, 1.05) * (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)
    }

    fn y_axis(&mut self) {
        let step = nice_step((self.y_max - self.y_min) / 5.0);
        let first = (self.y_min / step).ceil() as i64;
        let last = (self.y_max / step + 1e-9).floor() as i64;
        for tick in first..=last {
            let value = tick as f64 * step;
            let y = self.y(value);
            let _ = writeln!(
                self.svg,
                r##"<line x1="{MARGIN_LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{value:.2}</text>"##,
                WIDTH - MARGIN_RIGHT,
                MARGIN_LEFT - 6.0,
                y + 4.0
            );
        }
    }

    fn legend(&mut self, names: &[&str], dashed_from: usize) {
        self.legend_coloured(names, dashed_from, |index| PALETTE[index % PALETTE.len()]);
    }

    fn legend_coloured(&mut self, names: &[&str], dashed_from: usize, colour: impl Fn(usize) -> &'static str) {
        for (index, name) in names.iter().enumerate() {
            let y = MARGIN_TOP + 18.0 * index as f64;
            let x = WIDTH - MARGIN_RIGHT + 12.0;
            let dash = if index >= dashed_from { r#" stroke-dasharray="4 3""# } else { "" };
            let _ = writeln!(
                self.svg,
                r#"<line x1="{x}" x2="{}" y1="{y}" y2="{y}" stroke="{}" stroke-width="3"{dash}/><text x="{}" y="{}">{}</text>"#,
                x + 18.0,
                colour(index),
                x + 24.0,
                y + 4.0,
                escape(name)
            );
        }
    }

    fn finish(mut self, x_label: &str) -> String {
        let _ = writeln!(
            self.svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text></svg>"#,
            MARGIN_LEFT + Self::plot_width() / 2.0,
            HEIGHT - 12.0,
            escape(x_label)
        );
        self.svg
    }
}

/// Grouped bars: one group per category, one bar per series.
#[must_use]
pub fn grouped_bars(title: &str, y_label: &str, categories: &[String], series: &[Series], y_range: (f64, f64)) -> String {
    let mut frame = Frame::new(title, y_label, y_range.0, y_range.1);
    let group_width = Frame::plot_width() / categories.len().max(1) as f64;
    let bar_width = group_width * 0.8 / series.len().max(1) as f64;
    let zero = frame.y(0.0_f64.clamp(y_range.0, y_range.1));
    for (group, category) in categories.iter().enumerate() {
        let left = MARGIN_LEFT + group_width * group as f64 + group_width * 0.1;
        for (index, one) in series.iter().enumerate() {
            let value = one.values.get(group).copied().unwrap_or(f64::NAN);
            if !value.is_finite() {
                continue;
            }
            let top = frame.y(value);
            let _ = writeln!(
                frame.svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {value:.4}</title></rect>"#,
                left + bar_width * index as f64,
                top.min(zero),
                bar_width * 0.95,
                (top - zero).abs(),
                PALETTE[index % PALETTE.len()],
                escape(&one.name)
            );
        }
        let (x, y) = (left + group_width * 0.4, HEIGHT - MARGIN_BOTTOM + 12.0);
        let _ = writeln!(
            frame.svg,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="end" font-size="10" transform="rotate(-30 {x:.1} {y:.1})">{}</text>"#,
            escape(category)
        );
    }
    let names: Vec<&str> = series.iter().map(|one| one.name.as_str()).collect();
    frame.legend(&names, usize::MAX);
    frame.finish("")
}

/// Lines over a shared ascending x axis; series from `dashed_from` on are
/// dashed; tick labels get as many decimals as the span of `x` needs (none
/// from a span of 20 up, e.g. training steps).
#[must_use]
pub fn lines(title: &str, x_label: &str, y_label: &str, x: &[f64], series: &[Series], y_range: (f64, f64), dashed_from: usize) -> String {
    lines_with_ticks(title, x_label, y_label, x, series, y_range, dashed_from, tick_decimals(x))
}

/// Solid lines over an ascending x axis whose tick labels get as many
/// decimals as the span of `x` needs (for swept values such as 0.3, 0.5, 0.7).
#[must_use]
pub fn line_plot(title: &str, x_label: &str, y_label: &str, x: &[f64], series: &[Series], y_range: (f64, f64)) -> String {
    lines_with_ticks(title, x_label, y_label, x, series, y_range, usize::MAX, tick_decimals(x))
}

/// Decimals of the x tick labels: 0 from a span of 20 up, then 1, 2 or 3.
fn tick_decimals(x: &[f64]) -> usize {
    let span = x.last().copied().unwrap_or(0.0) - x.first().copied().unwrap_or(0.0);
    if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else if span >= 0.1 {
        2
    } else {
        3
    }
}

#[allow(clippy::too_many_arguments)]
fn lines_with_ticks(
    title: &str,
    x_label: &str,
    y_label: &str,
    x: &[f64],
    series: &[Series],
    y_range: (f64, f64),
    dashed_from: usize,
    decimals: usize,
) -> String {
    let mut frame = Frame::new(title, y_label, y_range.0, y_range.1);
    let (x_min, x_max) =
        (x.first().copied().unwrap_or(0.0), x.last().copied().unwrap_or(1.0).max(x.first().copied().unwrap_or(0.0) + 1e-9));
    let to_x = |value: f64| MARGIN_LEFT + (value - x_min) / (x_max - x_min) * Frame::plot_width();
    for tick in 0..=4 {
        let value = x_min + (x_max - x_min) * f64::from(tick) / 4.0;
        let _ = writeln!(
            frame.svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{value:.decimals$}</text>"#,
            to_x(value),
            HEIGHT - MARGIN_BOTTOM + 16.0
        );
    }
    for (index, one) in series.iter().enumerate() {
        let points: Vec<String> = x
            .iter()
            .zip(&one.values)
            .filter(|(_, v)| v.is_finite())
            .map(|(&xv, &yv)| format!("{:.1},{:.1}", to_x(xv), frame.y(yv)))
            .collect();
        let dash = if index >= dashed_from { r#" stroke-dasharray="4 3""# } else { "" };
        let _ = writeln!(
            frame.svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
            PALETTE[index % PALETTE.len()],
            points.join(" ")
        );
    }
    let names: Vec<&str> = series.iter().map(|one| one.name.as_str()).collect();
    frame.legend(&names, dashed_from);
    frame.finish(x_label)
}

/// A heatmap of `values[row][column]` in `[0, 1]` (white to dark blue), with labels.
#[must_use]
pub fn heatmap(title: &str, row_labels: &[String], column_labels: &[String], values: &[Vec<f64>], annotate: bool) -> String {
    heatmap_in(title, row_labels, column_labels, values, annotate, (0.0, 1.0))
}

/// A heatmap whose colour runs from white at `range.0` to dark blue at `range.1`.
#[must_use]
pub fn heatmap_in(
    title: &str,
    row_labels: &[String],
    column_labels: &[String],
    values: &[Vec<f64>],
    annotate: bool,
    range: (f64, f64),
) -> String {
    let rows = values.len().max(1);
    let columns = values.first().map_or(1, Vec::len).max(1);
    let (left, top) = (150.0, 40.0);
    let cell_width = ((WIDTH - left - 20.0) / columns as f64).min(80.0);
    let cell_height = ((HEIGHT - top - 60.0) / rows as f64).min(40.0);
    let height = top + cell_height * rows as f64 + 30.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = writeln!(svg, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, WIDTH / 2.0, escape(title));
    for (row, line) in values.iter().enumerate() {
        for (column, &value) in line.iter().enumerate() {
            let shade = ((value - range.0) / (range.1 - range.0)).clamp(0.0, 1.0);
            let channel = |full: f64| (255.0 - shade * (255.0 - full)).round() as u8;
            let (x, y) = (left + cell_width * column as f64, top + cell_height * row as f64);
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="rgb({},{},{})"><title>{value:.3}</title></rect>"#,
                cell_width,
                cell_height,
                channel(8.0),
                channel(48.0),
                channel(107.0)
            );
            if annotate {
                let colour = if shade > 0.55 { "white" } else { "black" };
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{colour}">{value:.2}</text>"#,
                    x + cell_width / 2.0,
                    y + cell_height / 2.0 + 4.0
                );
            }
        }
    }
    for (row, label) in row_labels.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            top + cell_height * (row as f64 + 0.5) + 4.0,
            escape(label)
        );
    }
    for (column, label) in column_labels.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            left + cell_width * (column as f64 + 0.5),
            top + cell_height * rows as f64 + 16.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Overlaid histograms of several samples on `[lo, hi]` with `bins` bins (as step lines).
#[must_use]
pub fn histograms(title: &str, x_label: &str, samples: &[(String, Vec<f64>)], range: (f64, f64), bins: usize) -> String {
    let centers: Vec<f64> = (0..bins).map(|bin| range.0 + (range.1 - range.0) * (bin as f64 + 0.5) / bins as f64).collect();
    let series: Vec<Series> = samples
        .iter()
        .map(|(name, values)| {
            let mut counts = vec![0.0; bins];
            for &value in values {
                let bin = (((value - range.0) / (range.1 - range.0)) * bins as f64).floor().clamp(0.0, bins as f64 - 1.0) as usize;
                counts[bin] += 1.0;
            }
            let total = values.len().max(1) as f64;
            Series { name: name.clone(), values: counts.into_iter().map(|count| count / total).collect() }
        })
        .collect();
    let top = series.iter().flat_map(|one| one.values.iter().copied()).fold(0.0, f64::max).max(1e-9);
    lines(title, x_label, "fraction of neurons", &centers, &series, (0.0, top * 1.1), usize::MAX)
}
