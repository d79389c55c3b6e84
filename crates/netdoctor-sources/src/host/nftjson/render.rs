//! Rebuilding a rule's text in `nft` syntax, for findings and traces.

use super::*;

/// Appends a statement in `nft` syntax, for traces and reports (counters are left out).
pub(super) fn render_stmt(out: &mut String, key: &str, val: J<'_>) {
    let str_of = |k: &str| val.get(k).and_then(J::as_str);
    match key {
        "match" => {
            let start = out.len();
            if let Some(left) = val.get("left") {
                render_expr(out, left);
            }
            let left = out.get(start..).unwrap_or_default();
            let quote = left.ends_with("ifname") || left.ends_with("iif") || left.ends_with("oif");
            match str_of("op").unwrap_or("==") {
                "==" | "in" => {}
                op => {
                    out.push(' ');
                    out.push_str(op);
                }
            }
            out.push(' ');
            if let Some(right) = val.get("right") {
                render_value(out, right, quote);
            }
        }
        "counter" | "comment" => {}
        "accept" | "drop" | "return" | "continue" | "masquerade" | "notrack" => out.push_str(key),
        "reject" => match str_of("expr") {
            Some(with) => {
                let _ = write!(out, "reject with {} {with}", str_of("type").unwrap_or("icmp"));
            }
            None => out.push_str("reject"),
        },
        "jump" | "goto" => {
            let _ = write!(out, "{key} {}", str_of("target").unwrap_or("?"));
        }
        "dnat" | "snat" => {
            out.push_str(key);
            let addr = val.get("addr");
            let port = val.get("port");
            if addr.is_some() || port.is_some() {
                out.push_str(" to ");
            }
            if let Some(a) = addr {
                render_value(out, a, false);
            }
            if let Some(p) = port {
                out.push(':');
                render_value(out, p, false);
            }
        }
        "redirect" => match val.get("port") {
            Some(p) => {
                out.push_str("redirect to :");
                render_value(out, p, false);
            }
            None => out.push_str("redirect"),
        },
        "log" => match str_of("prefix") {
            Some(p) => {
                let _ = write!(out, "log prefix \"{p}\"");
            }
            None => out.push_str("log"),
        },
        "xt" => {
            let _ = write!(out, "xt {} {}", str_of("type").unwrap_or("match"), str_of("name").unwrap_or("?"));
        }
        "mangle" => {
            if let Some(k) = val.get("key") {
                render_expr(out, k);
            }
            out.push_str(" set ");
            if let Some(v) = val.get("value") {
                render_value(out, v, false);
            }
        }
        other => out.push_str(other),
    }
}

/// Appends an expression (`ip saddr`, `meta mark`, `ct state`, …).
pub(super) fn render_expr(out: &mut String, v: J<'_>) {
    if let Some(p) = v.get("payload") {
        out.push_str(p.get("protocol").and_then(J::as_str).unwrap_or("?"));
        out.push(' ');
        out.push_str(p.get("field").and_then(J::as_str).unwrap_or("?"));
        return;
    }
    if let Some(m) = v.get("meta") {
        let key = m.get("key").and_then(J::as_str).unwrap_or("?");
        if !matches!(key, "iifname" | "oifname" | "iif" | "oif") {
            out.push_str("meta ");
        }
        out.push_str(key);
        return;
    }
    if let Some(ct) = v.get("ct") {
        out.push_str("ct ");
        if let Some(dir) = ct.get("dir").and_then(J::as_str) {
            out.push_str(dir);
            out.push(' ');
        }
        out.push_str(ct.get("key").and_then(J::as_str).unwrap_or("?"));
        return;
    }
    if let Some(fib) = v.get("fib") {
        out.push_str("fib ");
        for (i, flag) in fib.get("flags").and_then(J::as_array).unwrap_or(Arr::EMPTY).iter().filter_map(J::as_str).enumerate() {
            if i > 0 {
                out.push_str(" . ");
            }
            out.push_str(flag);
        }
        out.push(' ');
        out.push_str(fib.get("result").and_then(J::as_str).unwrap_or("?"));
        return;
    }
    if let Some(and) = v.get("&").and_then(J::as_array) {
        for (i, x) in and.iter().enumerate() {
            if i > 0 {
                out.push_str(" & ");
            }
            render_expr(out, x);
        }
        return;
    }
    render_value(out, v, false);
}

/// Appends a value: a string (quoted for interface names), a list, a prefix, range or set.
pub(super) fn render_value(out: &mut String, v: J<'_>, quote: bool) {
    let list = |out: &mut String, items: Arr<'_>, sep: &str| {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            render_value(out, x, quote);
        }
    };
    match v.node() {
        Some(Node::String(s)) if quote => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Some(Node::String(s)) => out.push_str(s),
        Some(Node::Array { .. }) => list(out, v.as_array().unwrap_or(Arr::EMPTY), ","),
        Some(Node::Object { .. }) => {
            if let Some(p) = v.get("prefix") {
                if let Some(addr) = p.get("addr") {
                    push_scalar(out, addr);
                }
                out.push('/');
                if let Some(len) = p.get("len") {
                    push_scalar(out, len);
                }
            } else if let Some(r) = v.get("range").and_then(J::as_array) {
                list(out, r, "-");
            } else if let Some(set) = v.get("set") {
                out.push_str("{ ");
                match set.as_array() {
                    Some(a) => list(out, a, ", "),
                    None => render_value(out, set, quote),
                }
                out.push_str(" }");
            } else if let Some(elem) = v.get("elem").and_then(|e| e.get("val")) {
                render_value(out, elem, quote);
            } else if v.contains_key("payload") || v.contains_key("meta") || v.contains_key("ct") {
                render_expr(out, v);
            } else {
                let _ = write!(out, "{v}");
            }
        }
        _ => push_scalar(out, v),
    }
}

/// Appends a string as it is, anything else as JSON (as [`scalar_text`] has it).
pub(super) fn push_scalar(out: &mut String, v: J<'_>) {
    match v.node() {
        Some(Node::String(s)) => out.push_str(s),
        Some(Node::Number(n)) if n.is_u64() => {
            // Digits without the formatting machinery: ports and lengths are most numbers.
            let mut digits = [0u8; 20];
            let mut at = digits.len();
            let mut rest = n.as_u64().unwrap_or_default();
            loop {
                at -= 1;
                if let Some(d) = digits.get_mut(at) {
                    *d = b'0' + (rest % 10) as u8;
                }
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            out.extend(digits.iter().skip(at).map(|&d| char::from(d)));
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}
