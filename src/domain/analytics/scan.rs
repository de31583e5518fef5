//! [`Scan`], the naive reference for [`super::Index`]: every [`Source`]
//! question answered by looking at every call, one bucket per call. The
//! property tests hold the index to it; nothing else should use it.

use super::bucket::Bucket;
use super::facts::CallFacts;
use super::index::{LiveRow, Names, Row, Source};
use super::params::{Filter, Range};
use super::slot_of;
use crate::domain::Millis;

/// The naive reference: every question answered by looking at every call.
#[derive(Debug, Default)]
pub struct Scan {
    names: Names,
    rows: Vec<Row>,
    live: Vec<LiveRow>,
}

impl Scan {
    /// A scan over `facts` (one per call).
    pub fn new(facts: &[CallFacts]) -> Self {
        let mut s = Self::default();
        for f in facts {
            match f.outcome() {
                Some(o) => {
                    let row = Row::new(f, o, &mut s.names);
                    s.rows.push(row);
                }
                None => {
                    let agent = s.names.id(&f.agent_id);
                    s.live.push(LiveRow { agent, created_at: f.created_at, status: f.status });
                }
            }
        }
        s
    }

    fn admits(&self, filter: &Filter, range: Range, r: &Row) -> bool {
        range.contains(r.created_at)
            && filter.admits(self.names.get(r.agent), r.campaign.map(|c| self.names.get(c)), r.kind)
    }
}

impl Source for Scan {
    fn visit(&self, filter: &Filter, range: Range, f: &mut dyn FnMut(&str, i64, &Bucket)) {
        for r in self.rows.iter().filter(|r| self.admits(filter, range, r)) {
            let mut b = Bucket::default();
            b.add(r);
            f(self.names.get(r.agent), slot_of(r.created_at), &b);
        }
    }

    fn rows(&self, filter: &Filter, range: Range) -> Vec<&Row> {
        let mut out: Vec<&Row> = self.rows.iter().filter(|r| self.admits(filter, range, r)).collect();
        out.sort_by(|a, b| (a.created_at, &a.call_id).cmp(&(b.created_at, &b.call_id)));
        out
    }

    fn live(&self) -> Vec<LiveRow> {
        self.live.clone()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id)
    }

    fn max_span(&self) -> Millis {
        self.rows.iter().map(Row::span).max().unwrap_or(0)
    }
}
