//! The file shapes of values every kind may use (durations, distributions, a server's
//! capacity), and `Problems`, where a kind's validation reports what is wrong by a path
//! of fields under its own entry; the loader prefixes the entry and finds the place in
//! the file.

use serde::Deserialize;

use super::architecture::CapacitySpec;
use crate::engine::{Dist, SimDuration};

/// Most workers a server or job queue may have, and most connections in a pool.
pub const WORKERS_MAX: u32 = 100_000;

/// A duration written as a string with a unit: `"150ms"`, `"2s"`, `"1.5s"`, `"5m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub SimDuration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SimDuration::parse(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// Written back as the string it was read from (the reference shows defaults this way).
impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

/// A duration's file shape, for the generated reference.
impl schemars::JsonSchema for Dur {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "duration" })
    }
}

/// How far a mixture's weights may sum from 1 (decimal fractions such as 0.1 are not
/// exact in binary).
const MIXTURE_WEIGHT_SLACK: f64 = 1e-9;

/// A distribution of durations, as written in files.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename = "distribution")]
pub enum RawDist {
    /// `const("5ms")` (or `constant("5ms")`).
    #[serde(rename = "const", alias = "constant")]
    Const(Dur),
    /// `uniform("0s", "5s")`.
    #[serde(rename = "uniform")]
    Uniform(Dur, Dur),
    /// `exp("2s")`: exponential with this mean.
    #[serde(rename = "exp")]
    Exp(Dur),
    /// `normal(mean: "10ms", sd: "2ms")`, truncated at 0.
    #[serde(rename = "normal")]
    Normal {
        /// Mean.
        mean: Dur,
        /// Standard deviation.
        sd: Dur,
    },
    /// `lognormal(median: "10ms", p99: "80ms")`.
    #[serde(rename = "lognormal")]
    LogNormal {
        /// Median (50th percentile).
        median: Dur,
        /// 99th percentile.
        p99: Dur,
    },
    /// `pareto(scale: "1ms", shape: 1.5)`: minimum `scale`, tail index `shape`.
    #[serde(rename = "pareto")]
    Pareto {
        /// The minimum value.
        scale: Dur,
        /// Tail index; smaller is heavier.
        shape: f64,
    },
    /// `empirical([(0, "1ms"), (50, "4ms"), (99, "30ms"), (100, "90ms")])`: a percentile
    /// table, interpolated linearly.
    #[serde(rename = "empirical")]
    Empirical(Vec<(f64, Dur)>),
    /// `mixture([(0.95, lognormal(median: "4ms", p99: "9ms")), (0.05, exp("200ms"))])`:
    /// each part drawn with its weight; the weights sum to 1.
    #[serde(rename = "mixture")]
    Mixture(Vec<(f64, RawDist)>),
    /// `plus("75ms", exp("10ms"))`: a fixed delay plus a draw of the distribution.
    #[serde(rename = "plus")]
    Plus(Dur, Box<RawDist>),
}

/// Workers, service time and queue limit of a server.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "capacity")]
pub struct RawCapacity {
    /// Requests served at once.
    #[serde(default = "one")]
    pub workers: u32,
    /// Time to serve one request.
    pub service: RawDist,
    /// Most requests waiting; more are turned away.
    #[serde(default)]
    pub queue: Option<u32>,
}

/// One: the default of counts that must be at least one (workers, shards, instances).
/// The field names of the struct `T`'s derived `Deserialize` accepts, for hints that
/// name the kind a misplaced field belongs to. Found by offering `T` a deserializer that
/// records what `deserialize_struct` is asked for and gives nothing.
pub fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor, value};
    struct Recorder(&'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for &mut Recorder {
        type Error = value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, value::Error> {
            Err(value::Error::custom("only a struct's field names are asked for"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, value::Error> {
            self.0 = fields;
            self.deserialize_any(visitor)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut recorder = Recorder(&[]);
    let _ = T::deserialize(&mut recorder);
    recorder.0
}

pub fn one() -> u32 {
    1
}

/// Parses a rate, `"100/s"`, `"6/h"`, `"1/10m"`, into the mean gap between two events.
pub fn parse_rate(text: &str) -> Result<SimDuration, String> {
    let bad = || format!("expected a rate like \"100/s\", \"1/10m\" or \"6/h\", found {text:?}");
    let (count, per) = text.split_once('/').ok_or_else(bad)?;
    let count: f64 = count.trim().parse().map_err(|_| bad())?;
    if !count.is_finite() || count <= 0.0 {
        return Err(bad());
    }
    let per = per.trim();
    let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
        per.to_string()
    } else {
        format!("1{per}")
    };
    let per = SimDuration::parse(&per).map_err(|_| bad())?;
    let gap = (per.as_nanos() as f64 / count) as u64;
    if gap == 0 {
        return Err(format!("rate {text:?} is too high: under 1 ns between two events"));
    }
    Ok(SimDuration(gap))
}

/// One problem: where (fields below the entry being validated), what, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Fields, map keys or list indices from the entry down.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// Another field it concerns (from the entry down), and what to say there.
    pub also: Option<(Vec<String>, String)>,
}

/// The problems validation found, in the order found.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    /// Every problem.
    pub list: Vec<Problem>,
}

impl Problems {
    /// Reports `message` at `path`.
    pub fn error(&mut self, path: &[&str], message: String, hint: Option<String>) {
        let path = path.iter().map(|s| s.to_string()).collect();
        self.list.push(Problem { path, message, hint, also: None });
    }

    /// Reports `message` at `path`, a conflict with the field at `other` (shown too, as
    /// `label`: an override may have set it, far from `path`).
    pub fn conflict(
        &mut self,
        path: &[&str],
        message: String,
        hint: &str,
        (other, label): (&str, &str),
    ) {
        self.error(path, message, Some(hint.into()));
        if let Some(p) = self.list.last_mut() {
            let mut at = p.path.clone();
            at.pop();
            at.push(other.to_string());
            p.also = Some((at, label.to_string()));
        }
    }

    /// Reports the count at `path` unless it is between 1 and `max`.
    pub fn count(&mut self, path: &[&str], value: u32, max: u32) {
        if value == 0 || value > max {
            let field = path.last().copied().unwrap_or_default();
            let msg = format!("`{field}` must be between 1 and {max}, found {value}");
            self.error(path, msg, None);
        }
    }

    /// Reports `p` unless it is a probability.
    pub fn probability(&mut self, path: &[&str], what: &str, p: f64) {
        if !p.is_finite() || !(0.0..=1.0).contains(&p) {
            self.error(path, format!("{what} must be a probability in [0, 1], found {p}"), None);
        }
    }

    /// `raw` as a distribution; problems are reported at `path`.
    pub fn dist(&mut self, path: &[&str], raw: &RawDist) -> Dist {
        let ns = |d: &Dur| d.0.as_nanos() as f64;
        match raw {
            RawDist::Const(v) => Dist::Const { value_ns: ns(v) },
            RawDist::Exp(m) => Dist::Exp { mean_ns: ns(m) },
            RawDist::Uniform(lo, hi) => {
                if lo.0 > hi.0 {
                    let msg = format!("uniform needs low <= high, found {} > {}", lo.0, hi.0);
                    self.error(path, msg, Some("swap the two bounds".into()));
                }
                Dist::Uniform { low_ns: ns(lo), high_ns: ns(hi) }
            }
            RawDist::Normal { mean, sd } => Dist::Normal { mean_ns: ns(mean), sd_ns: ns(sd) },
            RawDist::LogNormal { median, p99 } => {
                if median.0 == SimDuration::ZERO || p99.0 < median.0 {
                    let msg = format!(
                        "lognormal needs 0 < median <= p99, found median {} and p99 {}",
                        median.0, p99.0
                    );
                    self.error(path, msg, None);
                    return Dist::constant(median.0.as_nanos());
                }
                Dist::lognormal_from_median_p99(ns(median), ns(p99))
            }
            RawDist::Pareto { scale, shape } => {
                if scale.0 == SimDuration::ZERO || !shape.is_finite() || *shape <= 0.0 {
                    let msg =
                        format!("pareto needs scale > 0 and a finite shape > 0, found {shape}");
                    self.error(path, msg, None);
                }
                Dist::Pareto { scale_ns: ns(scale), shape: *shape }
            }
            RawDist::Empirical(points) => self.empirical(path, points),
            RawDist::Mixture(parts) => self.mixture(path, parts),
            RawDist::Plus(shift, rest) => {
                Dist::Plus { shift_ns: ns(shift), rest: Box::new(self.dist(path, rest)) }
            }
        }
    }

    fn mixture(&mut self, path: &[&str], parts: &[(f64, RawDist)]) -> Dist {
        let bad_weight = parts.iter().find(|(w, _)| !w.is_finite() || *w <= 0.0);
        let sum: f64 = parts.iter().map(|(w, _)| w).sum();
        if parts.is_empty() || bad_weight.is_some() || (sum - 1.0).abs() > MIXTURE_WEIGHT_SLACK {
            let found = parts.iter().map(|(w, _)| w.to_string()).collect::<Vec<_>>().join(" + ");
            // Rounded, so 0.9 + 0.05 reads as 0.95, not as its binary sum.
            let sum = libm::round(sum * 1e9) / 1e9;
            let msg = match (parts.is_empty(), bad_weight) {
                (true, _) => "a mixture needs at least one part".to_string(),
                (false, Some((w, _))) => format!("mixture weights must be above 0, found {w}"),
                (false, None) => format!("mixture weights must sum to 1, found {found} = {sum}"),
            };
            let hint = r#"e.g. mixture([(0.9, exp("10ms")), (0.1, exp("200ms"))])"#;
            self.error(path, msg, Some(hint.into()));
            return Dist::constant(0);
        }
        let parts = parts.iter().map(|(w, d)| (w / sum, self.dist(path, d))).collect();
        Dist::Mixture { parts }
    }

    fn empirical(&mut self, path: &[&str], points: &[(f64, Dur)]) -> Dist {
        let ok_shape = points.len() >= 2
            && points.first().is_some_and(|p| p.0 == 0.0)
            && points.last().is_some_and(|p| p.0 == 100.0);
        let increasing = points.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1.0 <= w[1].1.0);
        let finite = points.iter().all(|p| p.0.is_finite());
        if !(ok_shape && increasing && finite) {
            let msg = "empirical needs percentiles from 0 to 100, increasing, with \
                       non-decreasing values"
                .to_string();
            let hint = Some(r#"e.g. empirical([(0, "1ms"), (50, "4ms"), (100, "90ms")])"#.into());
            self.error(path, msg, hint);
            return Dist::constant(0);
        }
        let points = points.iter().map(|&(q, v)| (q / 100.0, v.0.as_nanos() as f64)).collect();
        Dist::Empirical { points }
    }

    /// `x` as a server's capacity; problems are reported under `path`.
    pub fn capacity(&mut self, path: &[&str], x: &RawCapacity) -> CapacitySpec {
        self.count(&[path, &["workers"]].concat(), x.workers, WORKERS_MAX);
        if x.queue == Some(0) {
            let msg = "`queue` must be at least 1; leave it out for no limit".to_string();
            self.error(&[path, &["queue"]].concat(), msg, None);
        }
        let service = self.dist(&[path, &["service"]].concat(), &x.service);
        CapacitySpec { workers: x.workers, service, queue: x.queue }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structs_field_names_are_read_from_its_deserialize() {
        let fields = field_names::<RawCapacity>();
        assert!(fields.contains(&"workers") && fields.contains(&"service"), "{fields:?}");
        assert!(field_names::<u32>().is_empty(), "not a struct");
    }

    #[test]
    fn counts_and_rates_are_checked_with_their_field_named() {
        let mut p = Problems::default();
        p.count(&["capacity", "workers"], 0, 8);
        p.count(&["shards"], 8, 8);
        assert_eq!(p.list.len(), 1);
        assert_eq!(p.list[0].path, ["capacity", "workers"]);
        assert_eq!(p.list[0].message, "`workers` must be between 1 and 8, found 0");
        assert_eq!(parse_rate("200/s").unwrap(), SimDuration(5_000_000));
        assert_eq!(parse_rate("6/h").unwrap(), SimDuration::from_secs(600));
        assert!(parse_rate("fast").is_err() && parse_rate("0/s").is_err());
        assert!(parse_rate("1e12/s").unwrap_err().contains("too high"));
    }
}
