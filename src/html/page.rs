//! One self-contained HTML page: inline CSS, no script and nothing fetched, so the file
//! opens from disk with no network. Sections are appended as HTML fragments.

use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for HTML text and attributes alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Page styles: system fonts, a readable column, tables and figures that fit it.
const STYLE: &str = "
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1d2433;
  margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 1px solid #d9dde5; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 24px 0 8px; }
.sub { color: #5b6475; margin: 0 0 16px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
.facts dt { color: #5b6475; } .facts dd { margin: 0; }
code, .mono { font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, monospace; font-size: 13px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; }
th, td { padding: 5px 12px; border-bottom: 1px solid #e4e7ed; text-align: left; }
th { background: #eef1f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs td { background: #fdecec; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; }
.holds { background: #e3f4e1; color: #1e6b1a; } .violated { background: #fbe1e1; color: #9b1c1c; }
.not-configured { background: #eceff3; color: #4a5568; }
.ok { color: #1e6b1a; font-weight: 600; } .bad { color: #9b1c1c; font-weight: 600; }
.banner { padding: 10px 14px; border-radius: 6px; margin: 14px 0; font-weight: 600; }
.banner.ok { background: #e3f4e1; } .banner.bad { background: #fbe1e1; }
figure { margin: 10px 0 18px; background: #fff; border: 1px solid #e4e7ed; border-radius: 6px;
  padding: 10px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: #5b6475; font-size: 13px; margin-top: 6px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
.charts figure { margin: 0; }
ol.story { margin: 6px 0 10px; padding-left: 22px; }
ol.story li { margin: 2px 0; } ol.story li.decisive { color: #9b1c1c; font-weight: 600; }
.muted { color: #5b6475; }
footer { margin-top: 40px; color: #5b6475; font-size: 13px; }
";

/// A page being written.
#[derive(Debug, Default)]
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// A page titled `title` (plain text).
    pub fn new(title: &str) -> Page {
        Page { title: title.to_string(), body: String::new() }
    }

    /// Appends an HTML fragment.
    pub fn push(&mut self, html: &str) {
        self.body.push_str(html);
    }

    /// Appends a section: a heading (plain text) with an anchor, then `html`.
    pub fn section(&mut self, id: &str, heading: &str, html: &str) {
        let _ = writeln!(self.body, "<section id=\"{}\"><h2>{}</h2>", escape(id), escape(heading));
        self.body.push_str(html);
        self.body.push_str("</section>\n");
    }

    /// The whole document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}\
             <footer>Written by archsim {}. Everything on this page is simulated time.</footer>\n\
             </main>\n</body>\n</html>\n",
            escape(&self.title),
            self.body,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// A table: header cells (plain text) and rows of HTML cells; a row's class goes on
/// its `<tr>`. Cells that start with a digit are right-aligned.
pub fn table(header: &[&str], rows: &[(Option<&str>, Vec<String>)]) -> String {
    let mut t = String::from("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(t, "<th>{}</th>", escape(h));
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for (class, cells) in rows {
        match class {
            Some(c) => {
                let _ = write!(t, "<tr class=\"{c}\">");
            }
            None => t.push_str("<tr>"),
        }
        for cell in cells {
            let numeric = cell.starts_with(|c: char| c.is_ascii_digit());
            t.push_str(if numeric { "<td class=\"num\">" } else { "<td>" });
            t.push_str(cell);
            t.push_str("</td>");
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// A figure: an inline SVG with a caption (plain text).
pub fn figure(svg: &str, caption: &str) -> String {
    let caption = if caption.is_empty() {
        String::new()
    } else {
        format!("<figcaption>{}</figcaption>", escape(caption))
    };
    format!("<figure>\n{}\n{caption}</figure>\n", svg.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_page_is_one_document_with_no_fetches() {
        let mut p = Page::new("run <1>");
        p.section(
            "verdicts",
            "Verdicts",
            &table(&["a", "b"], &[(None, vec!["x".into(), "12".into()])]),
        );
        let html = p.finish();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>run &lt;1&gt;</title>"));
        assert!(html.contains("<td class=\"num\">12</td>"));
        for fetch in ["<script", "<link", "src=", "@import", "url("] {
            assert!(!html.contains(fetch), "{fetch}");
        }
    }
}
