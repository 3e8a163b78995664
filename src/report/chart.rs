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
}

/// A chart: a title, axis labels and its lines.
#[derive(Debug, Clone)]
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
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let xs = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (x0, x1) = if x0 < x1 { (x0, x1) } else { (0.0, 1.0) };
        let top = |right: bool| {
            axis_top(
                chart
                    .series
                    .iter()
                    .filter(|s| s.right_axis == right)
                    .flat_map(|s| s.points.iter().map(|p| p.1))
                    .fold(0.0, f64::max),
            )
        };
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&chart.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .right_y_label_area_size(56);
        let mut ctx = builder
            .build_cartesian_2d(x0..x1, 0.0..top(false))
            .map_err(|e| e.to_string())?
            .set_secondary_coord(x0..x1, 0.0..top(true));
        let whole = |v: &f64| format!("{v:.0}");
        let fine = |v: &f64| format!("{v:.1}");
        let left_fmt: &dyn Fn(&f64) -> String = if top(false) >= 5.0 { &whole } else { &fine };
        let right_fmt: &dyn Fn(&f64) -> String = if top(true) >= 5.0 { &whole } else { &fine };
        ctx.configure_mesh()
            .x_label_formatter(&whole)
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
        for s in &chart.series {
            let (r, g, b) = s.color;
            let style = ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(2);
            let points = if s.steps {
                stepped(&s.points)
            } else {
                s.points.clone()
            };
            let line = LineSeries::new(points, style);
            let anno = if s.right_axis {
                ctx.draw_secondary_series(line)
            } else {
                ctx.draw_series(line)
            }
            .map_err(|e| e.to_string())?;
            anno.label(s.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        ctx.configure_series_labels()
            .label_font((FAMILY, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
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
                },
                Series {
                    label: "offered rps".into(),
                    points: vec![(0.0, 70.0), (10.0, 210.0), (20.0, 70.0)],
                    color: (200, 80, 30),
                    right_axis: true,
                    steps: false,
                },
            ],
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
    fn steps_hold_the_previous_value_until_the_next_point() {
        assert_eq!(
            stepped(&[(0.0, 1.0), (5.0, 3.0)]),
            vec![(0.0, 1.0), (5.0, 1.0), (5.0, 3.0)]
        );
    }
}
