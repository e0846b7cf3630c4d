//! The servers a multi-server client keeps track of (spec/06 §6.2.5–6.2.6),
//! at a cost per frame that does not grow with their number.
//!
//! Every tracked server is one entry of an [`IndexMap`] keyed by its port
//! (so a frame finds its server by hashing the port, whatever the number of
//! servers), and each entry is linked into one of two intrusive lists:
//!
//! * *live*, ordered by when each server was last heard: a frame moves its
//!   server to the back, so the front is always the server heard longest
//!   ago, whose silence deadline is the earliest;
//! * *silent*, ordered by when each went silent: the oldest is the one
//!   forgotten first when the table is full.
//!
//! So a frame costs one lookup and a few link updates, the earliest silence
//! deadline is read off the front, and each silence found costs one step
//! per server that falls silent. Memory is bounded per server (a port of at
//! most [`MAX_PORT_BYTES`] of JSON is tracked) and in total
//! (`Config::max_servers` entries).

use std::cell::Cell;
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use crate::json::Value;

/// The largest port tracked as a server, in bytes of its JSON text (about).
/// Real ports are a few digits; a frame with a larger port is delivered
/// with it but makes no server live, like a frame without a port.
pub(crate) const MAX_PORT_BYTES: usize = 256;

/// The most servers tracked, live and silent together: when a new port
/// comes and the table is full, the server silent longest is forgotten;
/// with no silent server to forget, the new port is not tracked.
pub(crate) const MAX_SERVERS: usize = 1024;

const NIL: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When its last frame came (live), or when it was last heard (silent).
    heard: Instant,
    /// When it joined the live set, as a count: orders `live()` by arrival.
    joined: u64,
    silent: bool,
    prev: usize,
    next: usize,
}

/// The ends of one intrusive list over the table's indices.
#[derive(Debug, Clone, Copy)]
struct List {
    head: usize,
    tail: usize,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };
}

/// What a frame from a port did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heard {
    /// A live server was heard again, or a new one joined.
    Live,
    /// A server reported silent came back.
    Resumed,
    /// The port is too large, or the table is full of live servers: the
    /// frame is delivered, but no server is tracked for it.
    Untracked,
}

/// The live and silent servers of a multi-server client.
#[derive(Debug)]
pub(crate) struct Servers {
    table: IndexMap<Value, Entry>,
    live: List,
    silent: List,
    joins: u64,
    max: usize,
    /// Entries examined so far (see [`Servers::visits`]).
    visits: Cell<u64>,
}

impl Servers {
    pub(crate) fn new(max: usize) -> Servers {
        Servers {
            table: IndexMap::new(),
            live: List::EMPTY,
            silent: List::EMPTY,
            joins: 0,
            max,
            visits: Cell::new(0),
        }
    }

    /// Entries examined by all operations so far: a deterministic measure
    /// of the bookkeeping work, which the tests compare across numbers of
    /// servers.
    pub(crate) fn visits(&self) -> u64 {
        self.visits.get()
    }

    fn visit(&self, entries: u64) {
        self.visits.set(self.visits.get() + entries);
    }

    fn list(&mut self, silent: bool) -> &mut List {
        if silent {
            &mut self.silent
        } else {
            &mut self.live
        }
    }

    fn entry(&mut self, i: usize) -> &mut Entry {
        self.visit(1);
        &mut self.table[i]
    }

    /// Points the link after `p` at `to`: `p`'s `next`, or the head of the
    /// live or the silent list when `p` is NIL (nothing comes before).
    fn set_next(&mut self, p: usize, silent: bool, to: usize) {
        match p {
            NIL => self.list(silent).head = to,
            p => self.entry(p).next = to,
        }
    }

    /// Points the link before `n` at `to`: `n`'s `prev`, or the tail of
    /// the list when `n` is NIL (nothing comes after).
    fn set_prev(&mut self, n: usize, silent: bool, to: usize) {
        match n {
            NIL => self.list(silent).tail = to,
            n => self.entry(n).prev = to,
        }
    }

    fn unlink(&mut self, i: usize) {
        let Entry {
            prev, next, silent, ..
        } = *self.entry(i);
        self.set_next(prev, silent, next);
        self.set_prev(next, silent, prev);
    }

    /// Links entry `i` at the back of the live or the silent list.
    fn push_back(&mut self, i: usize, silent: bool) {
        let tail = self.list(silent).tail;
        let e = self.entry(i);
        e.silent = silent;
        e.prev = tail;
        e.next = NIL;
        self.set_next(tail, silent, i);
        self.list(silent).tail = i;
    }

    /// Removes entry `i` from its list and from the table.
    fn remove(&mut self, i: usize) {
        self.unlink(i);
        self.table.swap_remove_index(i);
        // The last entry moved into slot `i`: point its neighbours at it.
        if i < self.table.len() {
            let Entry {
                prev, next, silent, ..
            } = *self.entry(i);
            self.set_next(prev, silent, i);
            self.set_prev(next, silent, i);
        }
    }

    /// When the server heard most recently was heard.
    fn latest(&self) -> Option<Instant> {
        (self.live.tail != NIL).then(|| self.table[self.live.tail].heard)
    }

    /// A frame from `port` arrived at `now`. Time never goes back here: an
    /// earlier `now` than the latest frame's counts as the latest.
    pub(crate) fn heard(&mut self, port: &Value, now: Instant) -> Heard {
        let now = self.latest().map_or(now, |latest| now.max(latest));
        self.visit(1);
        match self.table.get_index_of(port) {
            Some(i) => {
                let was_silent = self.table[i].silent;
                self.unlink(i);
                if was_silent {
                    self.joins += 1;
                    self.table[i].joined = self.joins;
                }
                self.table[i].heard = now;
                self.push_back(i, false);
                if was_silent {
                    Heard::Resumed
                } else {
                    Heard::Live
                }
            }
            None => self.join(port, now),
        }
    }

    /// A new server: tracked if its port is small and there is room (the
    /// oldest silent server is forgotten to make room).
    fn join(&mut self, port: &Value, now: Instant) -> Heard {
        let mut budget = MAX_PORT_BYTES;
        if !fits(port, &mut budget) {
            return Heard::Untracked;
        }
        if self.table.len() >= self.max {
            match self.silent.head {
                NIL => return Heard::Untracked,
                oldest => self.remove(oldest),
            }
        }
        self.joins += 1;
        let entry = Entry {
            heard: now,
            joined: self.joins,
            silent: false,
            prev: NIL,
            next: NIL,
        };
        let (i, _) = self.table.insert_full(port.clone(), entry);
        self.push_back(i, false);
        Heard::Live
    }

    /// A termination from `port`: it is forgotten, live or silent.
    pub(crate) fn terminated(&mut self, port: &Value) {
        if let Some(i) = self.table.get_index_of(port) {
            self.remove(i);
        }
    }

    /// No live server left.
    pub(crate) fn none_live(&self) -> bool {
        self.live.head == NIL
    }

    /// The earliest silence deadline: the server heard longest ago, if
    /// another has been heard since, falls silent `limit` after its last
    /// frame.
    pub(crate) fn deadline(&self, limit: Duration) -> Option<Instant> {
        self.visit(2);
        let first = self.table.get_index(self.live.head)?.1.heard;
        (first < self.latest()?).then(|| first + limit)
    }

    /// The next live server whose deadline has passed at `now`: it moves to
    /// the silent list and its port is returned. Call until `None`.
    pub(crate) fn next_silent(&mut self, now: Instant, limit: Duration) -> Option<Value> {
        let deadline = self.deadline(limit)?;
        if now < deadline {
            return None;
        }
        let i = self.live.head;
        self.unlink(i);
        self.push_back(i, true);
        Some(self.table.get_index(i)?.0.clone())
    }

    /// The live servers, in the order they (last) joined.
    pub(crate) fn live(&self) -> Vec<Value> {
        let mut live: Vec<(u64, &Value)> = self
            .table
            .iter()
            .filter(|(_, e)| !e.silent)
            .map(|(port, e)| (e.joined, port))
            .collect();
        live.sort_unstable_by_key(|(joined, _)| *joined);
        live.into_iter().map(|(_, port)| port.clone()).collect()
    }

    /// The silent servers, in the order they fell silent.
    pub(crate) fn silent(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut i = self.silent.head;
        while let Some((port, e)) = self.table.get_index(i) {
            out.push(port.clone());
            i = e.next;
        }
        out
    }
}

/// Whether `value` is small: its strings, number literals and a few bytes
/// for every other part add up to at most `budget` (about the length of its
/// JSON text), counted without writing the text and stopping at the budget.
fn fits(value: &Value, budget: &mut usize) -> bool {
    let cost = match value {
        Value::Null | Value::Bool(_) => 4,
        Value::Number(n) => n.as_str().len(),
        Value::String(s) => s.len() + 2,
        Value::Array(_) | Value::Object(_) => 2,
    };
    let Some(left) = budget.checked_sub(cost) else {
        return false;
    };
    *budget = left;
    match value {
        Value::Array(items) => items.iter().all(|v| {
            *budget = budget.saturating_sub(2);
            fits(v, budget)
        }),
        Value::Object(map) => map.iter().all(|(k, v)| {
            *budget = budget.saturating_sub(k.len() + 4);
            fits(v, budget)
        }),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(p: &str) -> Value {
        Value::from(p)
    }

    #[test]
    fn the_lists_survive_removals_that_move_entries() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut servers = Servers::new(8);
        for (k, p) in ["A", "B", "C", "D"].iter().enumerate() {
            servers.heard(&port(p), t0 + s * k as u32);
        }
        // A is at index 0: removing it moves D (the last) into its slot.
        servers.terminated(&port("A"));
        assert_eq!(servers.live(), vec![port("B"), port("C"), port("D")]);
        assert_eq!(servers.next_silent(t0 + s * 10, s), Some(port("B")));
        assert_eq!(servers.next_silent(t0 + s * 10, s), Some(port("C")));
        assert_eq!(servers.next_silent(t0 + s * 10, s), None, "D is the latest");
        assert_eq!(servers.silent(), vec![port("B"), port("C")]);
        servers.terminated(&port("B"));
        assert_eq!(servers.heard(&port("C"), t0 + s * 11), Heard::Resumed);
        assert_eq!(servers.live(), vec![port("D"), port("C")]);
        assert!(servers.silent().is_empty());
        assert_eq!(servers.deadline(s), Some(t0 + s * 4));
    }

    #[test]
    fn small_ports_fit_and_large_ones_do_not() {
        let small = [
            Value::from("5566"),
            Value::from(5566),
            Value::Null,
            crate::json::parse(br#"[1, "a", {"k": [true, null]}]"#).unwrap(),
        ];
        for v in small {
            assert!(fits(&v, &mut MAX_PORT_BYTES.clone()), "{v:?}");
        }
        let large = [
            Value::from("x".repeat(MAX_PORT_BYTES)),
            crate::json::parse(format!("[{}0]", "0, ".repeat(100)).as_bytes()).unwrap(),
            crate::json::parse(format!("{}{}", "[".repeat(100), "]".repeat(100)).as_bytes())
                .unwrap(),
        ];
        for v in large {
            assert!(!fits(&v, &mut MAX_PORT_BYTES.clone()), "{v:?}");
        }
    }
}
