//! Line charts as SVG text, drawn with plotters and an embedded font so the same run gives
//! the same bytes on any machine (no system fonts are consulted).

use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

/// DejaVu Sans (see assets/fonts/LICENSE-DejaVu.txt).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name charts ask for.
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is a valid TrueType file; if it were not, text would be left
        // out and plotters would report it when drawing.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
    /// Line colour (r, g, b).
    pub color: (u8, u8, u8),
    /// Plotted against the right-hand axis.
    pub right_axis: bool,
    /// Drawn as steps (a count that holds until it changes) rather than straight segments.
    pub steps: bool,
    /// Dashed (a target or a bound rather than a measurement).
    pub dashed: bool,
    /// Dots at the points instead of a line (a scatter of candidates).
    pub markers: bool,
}

impl Series {
    /// A solid line on the left axis.
    pub fn line(label: &str, points: Vec<(f64, f64)>, color: (u8, u8, u8)) -> Series {
        Series {
            label: label.to_string(),
            points,
            color,
            right_axis: false,
            steps: false,
            dashed: false,
            markers: false,
        }
    }
}

/// A filled band from 0 up to `points` (stacked charts pass cumulative tops, the highest
/// first, so each band paints over the one above it).
#[derive(Debug, Clone)]
pub struct Area {
    /// Legend text.
    pub label: String,
    /// (x, top) points in x order.
    pub points: Vec<(f64, f64)>,
    /// Fill colour (r, g, b).
    pub color: (u8, u8, u8),
}

/// A chart: a title, axis labels, filled areas and lines.
#[derive(Debug, Clone, Default)]
pub struct LineChart {
    /// Title.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the left axis.
    pub y_label: String,
    /// Label of the right axis (when a series uses it).
    pub y2_label: String,
    /// Lines.
    pub series: Vec<Series>,
    /// Filled areas, drawn before the lines in the order given.
    pub areas: Vec<Area>,
    /// The left axis's range (default: 0 to a little above the highest value).
    pub y_range: Option<(f64, f64)>,
    /// Legend in the lower left corner (for lines that hug the top, like availability).
    pub legend_low: bool,
}

/// The upper end of an axis holding `max`: a little headroom, never empty.
fn axis_top(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.1
    } else {
        1.0
    }
}

fn stepped(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

/// Renders the chart as an SVG document of `width` × `height` pixels.
pub fn render_svg(chart: &LineChart, width: u32, height: u32) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root, chart)?;
    }
    Ok(svg)
}

/// Renders the chart as a PNG image of `width` × `height` pixels (the same drawing as the
/// SVG, rasterized with the embedded font: the same bytes on any machine).
pub fn render_png(chart: &LineChart, width: u32, height: u32) -> Result<Vec<u8>, String> {
    register_font();
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root, chart)?;
    }
    encode_png(&rgb, width, height)
}

/// Draws `chart` on any plotters backend.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &LineChart,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let xs = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(
            chart
                .areas
                .iter()
                .flat_map(|a| a.points.iter().map(|p| p.0)),
        );
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (x0, x1) = if x0 < x1 { (x0, x1) } else { (0.0, 1.0) };
    let top = |right: bool| {
        let lines = chart
            .series
            .iter()
            .filter(|s| s.right_axis == right)
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let areas = chart
            .areas
            .iter()
            .filter(|_| !right)
            .flat_map(|a| a.points.iter().map(|p| p.1));
        axis_top(lines.chain(areas).fold(0.0, f64::max))
    };
    let (y0, y1) = chart
        .y_range
        .filter(|(a, b)| a.is_finite() && b.is_finite() && a < b)
        .unwrap_or((0.0, top(false)));
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(&chart.title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .right_y_label_area_size(if chart.series.iter().any(|s| s.right_axis) {
            64
        } else {
            12
        });
    let mut ctx = builder
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?
        .set_secondary_coord(x0..x1, 0.0..top(true));
    let whole = |v: &f64| format!("{v:.0}");
    let fine = |v: &f64| format!("{v:.1}");
    let finer = |v: &f64| format!("{v:.2}");
    let finest = |v: &f64| format!("{v:.3}");
    let span = y1 - y0;
    let left_fmt: &dyn Fn(&f64) -> String = if span >= 5.0 {
        &whole
    } else if span >= 0.5 {
        &fine
    } else if span >= 0.05 {
        &finer
    } else {
        &finest
    };
    let right_fmt: &dyn Fn(&f64) -> String = if top(true) >= 5.0 { &whole } else { &fine };
    // Enough decimals on x to tell the ticks apart (hours of a long run, dollars of a plan).
    let x_decimals = (1.0 - (x1 - x0).log10().floor()).clamp(0.0, 6.0) as usize;
    let x_fmt = move |v: &f64| format!("{v:.x_decimals$}");
    ctx.configure_mesh()
        .x_label_formatter(&x_fmt)
        .y_label_formatter(left_fmt)
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 14))
        .light_line_style(RGBColor(248, 248, 248))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(|e| e.to_string())?;
    if chart.series.iter().any(|s| s.right_axis) {
        ctx.configure_secondary_axes()
            .y_label_formatter(right_fmt)
            .y_desc(chart.y2_label.as_str())
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 14))
            .draw()
            .map_err(|e| e.to_string())?;
    }
    for a in &chart.areas {
        let (r, g, b) = a.color;
        let fill = RGBColor(r, g, b);
        ctx.draw_series(AreaSeries::new(stepped(&a.points), 0.0, fill.filled()).border_style(fill))
            .map_err(|e| e.to_string())?
            .label(a.label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], fill.filled()));
    }
    for s in &chart.series {
        let (r, g, b) = s.color;
        let style = ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(2);
        let points = if s.steps {
            stepped(&s.points)
        } else {
            s.points.clone()
        };
        if s.markers {
            let color = RGBColor(r, g, b);
            ctx.draw_series(points.iter().map(|&p| Circle::new(p, 5, color.filled())))
                .map_err(|e| e.to_string())?
                .label(s.label.as_str())
                .legend(move |(x, y)| Circle::new((x + 9, y), 5, color.filled()));
            continue;
        }
        let anno = match (s.dashed, s.right_axis) {
            (true, false) => ctx.draw_series(DashedLineSeries::new(points, 8, 5, style)),
            (true, true) => ctx.draw_secondary_series(DashedLineSeries::new(points, 8, 5, style)),
            (false, false) => ctx.draw_series(LineSeries::new(points, style)),
            (false, true) => ctx.draw_secondary_series(LineSeries::new(points, style)),
        }
        .map_err(|e| e.to_string())?;
        anno.label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    ctx.configure_series_labels()
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .position(if chart.legend_low {
            SeriesLabelPosition::LowerLeft
        } else {
            SeriesLabelPosition::UpperLeft
        })
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// One panel of an interval chart: a metric's mean and 95% interval per variant.
#[derive(Debug, Clone)]
pub struct IntervalPanel {
    /// Panel title (the metric and its unit).
    pub title: String,
    /// (variant, mean, low, high); an infinite or NaN end draws the dot alone.
    pub points: Vec<(String, f64, f64, f64)>,
}

/// Renders interval panels side by side as SVG.
pub fn render_intervals_svg(
    title: &str,
    panels: &[IntervalPanel],
    width: u32,
    height: u32,
) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw_intervals(&root, title, panels)?;
    }
    Ok(svg)
}

/// Renders interval panels side by side as PNG.
pub fn render_intervals_png(
    title: &str,
    panels: &[IntervalPanel],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, String> {
    register_font();
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw_intervals(&root, title, panels)?;
    }
    encode_png(&rgb, width, height)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(png_bytes)
}

fn draw_intervals<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    panels: &[IntervalPanel],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, (FAMILY, 20))
        .map_err(|e| e.to_string())?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, panel) in areas.iter().zip(panels) {
        let finite = |v: f64| v.is_finite().then_some(v);
        let ys: Vec<f64> = panel
            .points
            .iter()
            .flat_map(|p| [finite(p.1), finite(p.2), finite(p.3)])
            .flatten()
            .collect();
        let (lo, hi) = ys
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
                (a.min(y), b.max(y))
            });
        let (lo, hi) = if lo.is_finite() && hi > lo {
            let pad = (hi - lo) * 0.15;
            (lo - pad, hi + pad)
        } else if lo.is_finite() {
            let pad = lo.abs().max(1e-9) * 0.05;
            (lo - pad, lo + pad)
        } else {
            (0.0, 1.0)
        };
        let n = panel.points.len();
        let names: Vec<String> = panel.points.iter().map(|p| p.0.clone()).collect();
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FAMILY, 15))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo..hi)
            .map_err(|e| e.to_string())?;
        let label = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        // Enough decimals to tell the ticks apart: two more than the span's magnitude.
        let decimals = (2.0 - (hi - lo).log10().floor()).clamp(0.0, 8.0) as usize;
        let y_fmt = move |v: &f64| format!("{v:.decimals$}");
        chart
            .configure_mesh()
            .x_labels(n.max(1))
            .x_label_formatter(&label)
            .y_label_formatter(&y_fmt)
            .disable_x_mesh()
            .label_style((FAMILY, 12))
            .light_line_style(RGBColor(248, 248, 248))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(|e| e.to_string())?;
        let blue = RGBColor(31, 119, 180);
        for (i, p) in panel.points.iter().enumerate() {
            let x = i as f64;
            if p.2.is_finite() && p.3.is_finite() {
                let style = ShapeStyle::from(&blue).stroke_width(2);
                chart
                    .draw_series([
                        PathElement::new(vec![(x, p.2), (x, p.3)], style),
                        PathElement::new(vec![(x - 0.12, p.2), (x + 0.12, p.2)], style),
                        PathElement::new(vec![(x - 0.12, p.3), (x + 0.12, p.3)], style),
                    ])
                    .map_err(|e| e.to_string())?;
            }
            if p.1.is_finite() {
                chart
                    .draw_series([Circle::new((x, p.1), 5, blue.filled())])
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart {
            title: "replicas".into(),
            x_label: "minutes".into(),
            y_label: "pods".into(),
            y2_label: "rps".into(),
            series: vec![
                Series {
                    label: "desired".into(),
                    points: vec![(0.0, 3.0), (10.0, 5.0), (20.0, 4.0)],
                    color: (30, 100, 200),
                    right_axis: false,
                    steps: true,
                    dashed: false,
                    markers: false,
                },
                Series {
                    label: "offered rps".into(),
                    points: vec![(0.0, 70.0), (10.0, 210.0), (20.0, 70.0)],
                    color: (200, 80, 30),
                    right_axis: true,
                    steps: false,
                    dashed: true,
                    markers: false,
                },
            ],
            areas: vec![Area {
                label: "nodes".into(),
                points: vec![(0.0, 2.0), (10.0, 4.0), (20.0, 4.0)],
                color: (200, 220, 240),
            }],
            y_range: None,
            legend_low: false,
        }
    }

    #[test]
    fn renders_text_and_lines_identically_every_time() {
        let a = render_svg(&chart(), 640, 360).expect("svg");
        assert!(a.starts_with("<svg"), "{}", &a[..40.min(a.len())]);
        for text in ["replicas", "minutes", "desired", "offered rps"] {
            assert!(a.contains(text), "missing {text}");
        }
        assert!(a.contains("<polyline"));
        assert_eq!(a, render_svg(&chart(), 640, 360).expect("svg"));
    }

    #[test]
    fn png_is_a_deterministic_image_of_the_requested_size() {
        let a = render_png(&chart(), 320, 200).expect("png");
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, right after the 8-byte signature and the
        // chunk's length and type.
        assert_eq!(&a[16..24], &[0, 0, 1, 64, 0, 0, 0, 200]);
        assert_eq!(a, render_png(&chart(), 320, 200).expect("png"));
    }

    #[test]
    fn steps_hold_the_previous_value_until_the_next_point() {
        assert_eq!(
            stepped(&[(0.0, 1.0), (5.0, 3.0)]),
            vec![(0.0, 1.0), (5.0, 1.0), (5.0, 3.0)]
        );
    }
}
