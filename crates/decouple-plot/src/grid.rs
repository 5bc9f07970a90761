//! Image grids: panels of small grey images (filters, principal components),
//! each image scaled symmetrically (`0` mid-grey, `+-max|v|` white / black)
//! so that signs and shapes can be compared at a glance.

use std::fmt::Write as _;

use crate::escape;

/// One titled panel of images, each `height x width` values in row-major order.
#[derive(Debug, Clone)]
pub struct ImagePanel {
    /// The panel's title (e.g. the augmentation).
    pub title: String,
    /// The images.
    pub images: Vec<Vec<f64>>,
}

const PIXEL: f64 = 4.0;
const GAP: f64 = 2.0;
const PANEL_GAP: f64 = 24.0;
const TITLE: f64 = 36.0;
const PANEL_TITLE: f64 = 18.0;

/// Panels side by side, each a grid of `columns` images per row, as SVG.
#[must_use]
pub fn image_grid(title: &str, panels: &[ImagePanel], height: usize, width: usize, columns: usize) -> String {
    let columns = columns.max(1);
    let cell = (width as f64 * PIXEL + GAP, height as f64 * PIXEL + GAP);
    let rows_of = |panel: &ImagePanel| panel.images.len().div_ceil(columns);
    let panel_width = columns as f64 * cell.0;
    let max_rows = panels.iter().map(rows_of).max().unwrap_or(0);
    let total_width = (panels.len() as f64 * (panel_width + PANEL_GAP) + PANEL_GAP).max(300.0);
    let total_height = TITLE + PANEL_TITLE + max_rows as f64 * cell.1 + PANEL_GAP;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_width:.0}" height="{total_height:.0}" viewBox="0 0 {total_width:.0} {total_height:.0}" shape-rendering="crispEdges">"#
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="22" font-family="sans-serif" font-size="15" text-anchor="middle">{}</text>"#,
        total_width / 2.0,
        escape(title)
    );
    for (p, panel) in panels.iter().enumerate() {
        let left = PANEL_GAP + p as f64 * (panel_width + PANEL_GAP);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-family="sans-serif" font-size="11" text-anchor="middle">{}</text>"#,
            left + panel_width / 2.0,
            TITLE + 8.0,
            escape(&panel.title)
        );
        for (k, image) in panel.images.iter().enumerate() {
            let (x0, y0) = (left + (k % columns) as f64 * cell.0, TITLE + PANEL_TITLE + (k / columns) as f64 * cell.1);
            let scale = image.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (index, value) in image.iter().enumerate().take(height * width) {
                let grey = if scale > 0.0 { 127.5 + 127.5 * value / scale } else { 127.5 };
                let grey = grey.round().clamp(0.0, 255.0) as u8;
                let _ = writeln!(
                    svg,
                    r#"<rect x="{:.0}" y="{:.0}" width="{PIXEL:.0}" height="{PIXEL:.0}" fill="rgb({grey},{grey},{grey})"/>"#,
                    x0 + (index % width) as f64 * PIXEL,
                    y0 + (index / width) as f64 * PIXEL
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::{ImagePanel, image_grid};

    #[test]
    fn one_rect_per_pixel_signs_map_to_black_and_white() {
        let panel = ImagePanel { title: "a <b>".into(), images: vec![vec![1.0, -1.0, 0.0, 0.5], vec![0.0; 4]] };
        let svg = image_grid("t", &[panel.clone(), panel.clone()], 2, 2, 1);
        assert_eq!(svg.matches("<rect x=").count(), 16);
        assert!(svg.contains("rgb(255,255,255)") && svg.contains("rgb(0,0,0)") && svg.contains("rgb(128,128,128)"));
        assert!(svg.contains("a &lt;b&gt;"));
        assert_eq!(svg, image_grid("t", &[panel.clone(), panel], 2, 2, 1));
    }
}
