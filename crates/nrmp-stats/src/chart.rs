//! Hand-written SVG charts: Kaplan–Meier curves with confidence bands, yearly rates with
//! confidence intervals, and rates against a continuous measure (a scatter with interval bars,
//! a fitted curve and printed caveats). Pure string generation (no chart library, no IO); the caller writes
//! the returned document where it wants.
//!
//! The charts are deliberately plain: a frame, tick labels, one colour per series, a legend,
//! and the title. Every chart carries its data as figures elsewhere (the tables printed by the
//! same command) — a chart is never the only place a number is published.

use crate::survival::KaplanMeier;

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLOURS: [&str; 6] = [
    "#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#444444",
];

/// One year's rate with its interval, for [`trend_svg`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    /// The year (x).
    pub year: f64,
    /// The rate (y).
    pub rate: f64,
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
}

/// One series of [`trend_svg`]: label, points, and an optional fitted line `(year, rate)`.
pub type TrendSeries = (String, Vec<RatePoint>, Option<Vec<(f64, f64)>>);

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        let span = if self.x1 > self.x0 {
            self.x1 - self.x0
        } else {
            1.0
        };
        LEFT + (v - self.x0) / span * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        let span = if self.y1 > self.y0 {
            self.y1 - self.y0
        } else {
            1.0
        };
        H - BOTTOM - (v - self.y0) / span * (H - TOP - BOTTOM)
    }
}

fn header(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{LEFT}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        esc(title)
    )
}

fn axes(
    f: &Frame,
    xticks: &[(f64, String)],
    yticks: &[(f64, String)],
    xl: &str,
    yl: &str,
) -> String {
    let mut s = format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    for (v, label) in xticks {
        let x = f.x(*v);
        s.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#333\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            H - BOTTOM,
            H - BOTTOM + 5.0,
            H - BOTTOM + 18.0,
            esc(label)
        ));
    }
    for (v, label) in yticks {
        let y = f.y(*v);
        s.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{LEFT}\" y2=\"{y:.1}\" stroke=\"#333\"/><line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            LEFT - 5.0,
            W - RIGHT,
            LEFT - 8.0,
            y + 4.0,
            esc(label)
        ));
    }
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
        (LEFT + W - RIGHT) / 2.0,
        H - 15.0,
        esc(xl)
    ));
    s.push_str(&format!(
        "<text x=\"18\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {:.1})\">{}</text>\n",
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0,
        esc(yl)
    ));
    s
}

fn legend(k: usize, label: &str) -> String {
    let y = TOP + 10.0 + 20.0 * k as f64;
    let x = W - RIGHT + 12.0;
    format!(
        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"14\" height=\"4\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
        y - 4.0,
        COLOURS[k % COLOURS.len()],
        x + 20.0,
        y + 1.0,
        esc(label)
    )
}

fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(mag * 10.0);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 50 {
        out.push(t);
        t += step;
    }
    out
}

/// Kaplan–Meier curves drawn as *cumulative share missing* `1 − S(t)` (steps) with their
/// pointwise confidence bands (log-log, shaded), up to `max_time` (in the curves' time unit,
/// labelled `time_label`).
pub fn km_svg(
    title: &str,
    curves: &[(String, &KaplanMeier)],
    max_time: f64,
    time_label: &str,
) -> String {
    let max_time = if max_time > 0.0 { max_time } else { 1.0 };
    let ymax = curves
        .iter()
        .flat_map(|(_, km)| km.steps.iter().filter(|s| s.time <= max_time))
        .map(|s| 1.0 - s.ci_low)
        .fold(0.05_f64, f64::max)
        .min(1.0);
    let f = Frame {
        x0: 0.0,
        x1: max_time,
        y0: 0.0,
        y1: ymax,
    };
    let xt: Vec<(f64, String)> = nice_ticks(0.0, max_time, 8)
        .into_iter()
        .map(|v| (v, format!("{v}")))
        .collect();
    let yt: Vec<(f64, String)> = nice_ticks(0.0, ymax, 5)
        .into_iter()
        .map(|v| (v, format!("{:.0}%", v * 100.0)))
        .collect();
    let mut s = header(title);
    s.push_str(&axes(
        &f,
        &xt,
        &yt,
        time_label,
        "cumulative share missing (1 − S)",
    ));
    for (k, (label, km)) in curves.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        // Step functions: (time, failure, lower, upper) from t = 0.
        let mut pts = vec![(0.0, 0.0, 0.0, 0.0)];
        for st in km.steps.iter().filter(|st| st.time <= max_time) {
            pts.push((
                st.time,
                1.0 - st.survival,
                1.0 - st.ci_high,
                1.0 - st.ci_low,
            ));
        }
        let end = pts.last().copied().unwrap_or((0.0, 0.0, 0.0, 0.0));
        let end_t = max_time.min(km.max_time()).max(end.0);
        let mut upper = String::new();
        let mut lower = Vec::new();
        let mut line = String::new();
        for (i, p) in pts.iter().enumerate() {
            let next_t = pts.get(i + 1).map_or(end_t, |q| q.0);
            let (xa, xb) = (f.x(p.0), f.x(next_t));
            upper.push_str(&format!("{xa:.1},{:.1} {xb:.1},{:.1} ", f.y(p.3), f.y(p.3)));
            lower.push(format!("{xb:.1},{:.1} {xa:.1},{:.1}", f.y(p.2), f.y(p.2)));
            line.push_str(&format!("{xa:.1},{:.1} {xb:.1},{:.1} ", f.y(p.1), f.y(p.1)));
        }
        lower.reverse();
        s.push_str(&format!(
            "<polygon points=\"{upper}{}\" fill=\"{colour}\" fill-opacity=\"0.15\" stroke=\"none\"/>\n",
            lower.join(" ")
        ));
        s.push_str(&format!(
            "<polyline points=\"{line}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\n"
        ));
        s.push_str(&legend(k, label));
    }
    s.push_str("</svg>\n");
    s
}

/// Yearly rates as points with CI whiskers, one series per entry, optionally with a fitted
/// trend line per series (same years).
pub fn trend_svg(title: &str, series: &[TrendSeries], y_label: &str) -> String {
    let all = series.iter().flat_map(|(_, p, _)| p.iter());
    let (mut x0, mut x1, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
    for p in all {
        x0 = x0.min(p.year);
        x1 = x1.max(p.year);
        ymax = ymax.max(p.high).max(p.rate);
    }
    if !x0.is_finite() {
        x0 = 0.0;
        x1 = 1.0;
    }
    let f = Frame {
        x0: x0 - 0.5,
        x1: x1 + 0.5,
        y0: 0.0,
        y1: if ymax > 0.0 { ymax * 1.1 } else { 1.0 },
    };
    let xt: Vec<(f64, String)> = (x0 as i64..=x1 as i64)
        .map(|y| (y as f64, y.to_string()))
        .collect();
    let yt: Vec<(f64, String)> = nice_ticks(0.0, f.y1, 5)
        .into_iter()
        .map(|v| (v, format!("{v}")))
        .collect();
    let mut s = header(title);
    s.push_str(&axes(&f, &xt, &yt, "year", y_label));
    for (k, (label, pts, fitted)) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let dx = (k as f64 - (series.len() as f64 - 1.0) / 2.0) * 0.06;
        for p in pts {
            let x = f.x(p.year + dx);
            s.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{colour}\"/><circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{colour}\"/>\n",
                f.y(p.low),
                f.y(p.high),
                f.y(p.rate)
            ));
        }
        if let Some(line) = fitted {
            let pts: Vec<String> = line
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", f.x(*x), f.y(*y)))
                .collect();
            s.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-dasharray=\"5 3\"/>\n",
                pts.join(" ")
            ));
        }
        s.push_str(&legend(k, label));
    }
    s.push_str("</svg>\n");
    s
}

/// One unit of [`scatter_svg`]: a rate `y` with its interval at `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    /// The unit (shown as a tooltip).
    pub label: String,
    /// Horizontal position.
    pub x: f64,
    /// The rate.
    pub y: f64,
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
}

/// Wraps `text` into lines of at most `width` characters (at spaces).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Rates against a continuous measure: one point per unit with a vertical interval bar, an
/// optional fitted curve `(x, y)` (dashed), and `notes` (e.g. the caveats of an ecological
/// analysis) printed under the plot so that the chart never travels without them.
pub fn scatter_svg(
    title: &str,
    points: &[ScatterPoint],
    fitted: Option<&[(f64, f64)]>,
    x_label: &str,
    y_label: &str,
    notes: &[String],
) -> String {
    let (mut x0, mut x1, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
    for p in points {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        ymax = ymax.max(p.high).max(p.y);
    }
    for (x, y) in fitted.unwrap_or_default() {
        ymax = ymax.max(*y);
        x0 = x0.min(*x);
        x1 = x1.max(*x);
    }
    if !x0.is_finite() {
        x0 = 0.0;
        x1 = 1.0;
    }
    let pad = ((x1 - x0) * 0.05).max(1e-9);
    let f = Frame {
        x0: x0 - pad,
        x1: x1 + pad,
        y0: 0.0,
        y1: if ymax > 0.0 { ymax * 1.1 } else { 1.0 },
    };
    let xt: Vec<(f64, String)> = nice_ticks(f.x0, f.x1, 6)
        .into_iter()
        .map(|v| (v, format!("{v}")))
        .collect();
    let yt: Vec<(f64, String)> = nice_ticks(0.0, f.y1, 5)
        .into_iter()
        .map(|v| (v, format!("{v}")))
        .collect();
    let lines: Vec<String> = notes.iter().flat_map(|n| wrap(n, 110)).collect();
    let height = H + 16.0 * lines.len() as f64 + if lines.is_empty() { 0.0 } else { 10.0 };
    let mut s = header(title).replacen(
        &format!("height=\"{H}\" viewBox=\"0 0 {W} {H}\""),
        &format!("height=\"{height}\" viewBox=\"0 0 {W} {height}\""),
        1,
    );
    s.push_str(&axes(&f, &xt, &yt, x_label, y_label));
    let colour = COLOURS[0];
    for p in points {
        let x = f.x(p.x);
        s.push_str(&format!(
            "<g><title>{}</title><line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-opacity=\"0.6\"/><circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/></g>\n",
            esc(&p.label),
            f.y(p.low),
            f.y(p.high),
            f.y(p.y)
        ));
    }
    s.push_str(&legend(0, "units (95% CI)"));
    if let Some(line) = fitted {
        let pts: Vec<String> = line
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", f.x(*x), f.y(*y)))
            .collect();
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n",
            pts.join(" "),
            COLOURS[1]
        ));
        s.push_str(&legend(1, "fitted"));
    }
    for (k, line) in lines.iter().enumerate() {
        s.push_str(&format!(
            "<text x=\"20\" y=\"{:.1}\" font-size=\"11\">{}</text>\n",
            H + 4.0 + 16.0 * k as f64,
            esc(line)
        ));
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn km_chart_is_well_formed() {
        let km = KaplanMeier::fit(
            &[1.0, 2.0, 2.0, 5.0, 8.0],
            &[true, true, false, true, false],
        )
        .unwrap();
        let svg = km_svg("A & B", &[("all <x>".into(), &km)], 10.0, "days");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("A &amp; B") && svg.contains("all &lt;x&gt;"));
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert_eq!(svg.matches("<polyline").count(), 1);
    }

    #[test]
    fn scatter_has_points_bars_curve_and_wrapped_notes() {
        let pts: Vec<ScatterPoint> = (0..5)
            .map(|i| ScatterPoint {
                label: format!("la:{i} <x>"),
                x: 50_000.0 + 5_000.0 * i as f64,
                y: 100.0 - 5.0 * i as f64,
                low: 80.0 - 5.0 * i as f64,
                high: 120.0 - 5.0 * i as f64,
            })
            .collect();
        let curve: Vec<(f64, f64)> = (0..=10)
            .map(|i| (50_000.0 + 2_000.0 * i as f64, 100.0 - 2.0 * i as f64))
            .collect();
        let long = "word ".repeat(60);
        let svg = scatter_svg(
            "Rate & spend",
            &pts,
            Some(&curve),
            "spend",
            "rate",
            &[long.trim().to_owned(), "second".into()],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 5);
        assert_eq!(svg.matches("stroke-opacity").count(), 5);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("la:4 &lt;x&gt;") && svg.contains("Rate &amp; spend"));
        // 300 characters wrap onto three lines of at most 110, plus the second note.
        assert_eq!(svg.matches("font-size=\"11\"").count(), 4);
        assert!(svg.contains(&format!("height=\"{}\"", H + 16.0 * 4.0 + 10.0)));
        assert!(wrap("a b", 1) == vec!["a", "b"]);
    }

    #[test]
    fn trend_chart_has_a_point_per_year() {
        let pts: Vec<RatePoint> = (2020..2024)
            .map(|y| RatePoint {
                year: y as f64,
                rate: 10.0,
                low: 8.0,
                high: 12.0,
            })
            .collect();
        let svg = trend_svg(
            "t",
            &[(
                "rate".into(),
                pts,
                Some(vec![(2020.0, 9.0), (2023.0, 11.0)]),
            )],
            "per 100",
        );
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("2023"));
        assert!(nice_ticks(0.0, 1.0, 5).len() >= 5);
    }
}
