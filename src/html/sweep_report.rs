//! The HTML report of a sweep: its grid, each metric's chart with its 95% confidence
//! bands, each distribution's chart, and a table of every point's means.

use std::fmt::Write as _;

use super::page::{Page, escape, figure, table};
use crate::chart::Figure;
use crate::model::sweep::number;
use crate::sweep::SweepSpec;
use crate::sweep::stats::PointStats;

/// Chart size on the page, in pixels before the page scales them.
const CHART_SIZE: (u32, u32) = (960, 600);

/// What the report is made of.
pub struct SweepReport<'a> {
    /// What the sweep is of (the scenario's name).
    pub title: &'a str,
    /// The grid, variants, metrics and distributions.
    pub spec: &'a SweepSpec,
    /// Runs in the sweep.
    pub runs: usize,
    /// Statistics by variant, point and metric.
    pub stats: &'a [Vec<Vec<Option<PointStats>>>],
    /// The metric charts, then the distribution charts.
    pub figures: &'a [Figure],
    /// The headline: where, then each metric per variant (`sweep::headline`).
    pub headline: &'a [String],
}

impl SweepReport<'_> {
    /// The whole HTML document.
    pub fn render(&self) -> Result<String, String> {
        let mut page = Page::new(&format!("archsim sweep: {}", self.title));
        page.push(&self.header());
        if let Some((at, metrics)) = self.headline.split_first() {
            let items: String = metrics.iter().map(|m| format!("<li>{}</li>", escape(m))).collect();
            let html = format!("<p>{}</p><ul>{items}</ul>", escape(at));
            page.section("headline", "Headline", &html);
        }
        let mut charts = String::new();
        for fig in self.figures {
            let caption = if fig.series.iter().any(|s| !s.band.is_empty() && s.markers) {
                "Each point is the mean of its replicates; the shaded band is its 95% \
                 confidence interval."
            } else {
                ""
            };
            charts.push_str(&figure(&fig.svg_sized(CHART_SIZE)?, caption));
        }
        page.section("charts", "Charts", &charts);
        page.section("points", "Every point", &self.points());
        Ok(page.finish())
    }

    fn header(&self) -> String {
        let s = self.spec;
        let mut facts = vec![
            ("runs", self.runs.to_string()),
            ("replicates", format!("{} per point and variant", s.seeds)),
            (
                "variants",
                escape(&s.variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")),
            ),
        ];
        for axis in &s.axes {
            let values: Vec<String> = axis.values.iter().map(|&v| number(v)).collect();
            let text = format!(
                "{} (<code>{}</code>): {}",
                escape(&axis.label),
                escape(&axis.param),
                values.join(", ")
            );
            facts.push(("axis", text));
        }
        let mut h = format!("<h1>Sweep: {}</h1>\n<dl class=\"facts\">\n", escape(self.title));
        for (k, v) in facts {
            let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
        }
        h.push_str("</dl>\n");
        h
    }

    /// One row per variant and point: the axis values, then each metric's mean ± its
    /// confidence half-width.
    fn points(&self) -> String {
        let s = self.spec;
        let mut header: Vec<&str> = vec!["variant"];
        header.extend(s.axes.iter().map(|a| a.label.as_str()));
        header.extend(s.metrics.iter().map(|m| m.name.as_str()));
        let rows: Vec<(Option<&str>, Vec<String>)> = s
            .runs(0)
            .iter()
            .filter(|r| r.replicate == 0)
            .map(|r| {
                let mut cells = vec![escape(&s.variants[r.variant].name)];
                cells.extend(s.axes.iter().zip(&r.values).map(|(a, &i)| number(a.values[i])));
                cells.extend(self.stats[r.variant][r.point].iter().map(|st| match st {
                    // An interval stopped at 0 is no longer symmetric: both ends, then.
                    Some(st) if st.ci_low() > st.mean - st.ci95 => {
                        format!(
                            "{} ({} to {})",
                            short(st.mean),
                            short(st.ci_low()),
                            short(st.ci_high())
                        )
                    }
                    Some(st) => format!("{} ± {}", short(st.mean), short(st.ci95)),
                    None => "—".into(),
                }));
                (None, cells)
            })
            .collect();
        table(&header, &rows)
    }
}

/// Four significant digits.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return number(x);
    }
    let digits = (3 - libm::floor(libm::log10(x.abs())) as i32).clamp(0, 9) as usize;
    format!("{x:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn means_show_four_significant_digits() {
        assert_eq!(short(0.123456), "0.1235");
        assert_eq!(short(1234.5678), "1235");
        assert_eq!(short(12.0), "12.00");
        assert_eq!(short(0.0), "0");
    }
}
