//! PNG charts: the figure's SVG rasterised by resvg, with the shipped DejaVu Sans as
//! every family, so a PNG shows what a browser shows of the SVG (plotters' own bitmap
//! text drops each glyph's side bearing and rounds its position, so `0.5` ran into
//! itself and `times` read `tim es`). No system font is looked up: the picture is the
//! same on every machine.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// The font every chart's text is set in.
pub(super) static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Parsing options with the shipped font alone, built once per process.
fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(DEJAVU_SANS.to_vec());
        let family = fonts.faces().next().and_then(|f| f.families.first()).map(|f| f.0.clone());
        let family = family.unwrap_or_else(|| "DejaVu Sans".into());
        fonts.set_sans_serif_family(family.clone());
        usvg::Options { font_family: family, fontdb: Arc::new(fonts), ..Default::default() }
    })
}

/// `svg` as PNG bytes, at the size its root element gives.
pub fn png_of_svg(svg: &str) -> Result<Vec<u8>, String> {
    let tree = usvg::Tree::from_str(svg, options()).map_err(|e| format!("chart SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("a chart of {}×{} pixels", size.width(), size.height()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    // plotters puts one-pixel lines on whole coordinates, which is the boundary between
    // two pixels: half a pixel across, each falls on one pixel and stays crisp.
    let crisp = tiny_skia::Transform::from_translate(0.5, 0.5);
    resvg::render(&tree, crisp, &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG encoding: {e}"))
}

/// Writes `svg` as a PNG at `path`, all or nothing (a temporary file renamed into
/// place, removed on failure).
pub fn write_png(svg: &str, path: &Path) -> Result<(), String> {
    let png = png_of_svg(svg)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = path.with_file_name(format!(".tmp-{}-{name}", std::process::id()));
    let result = std::fs::write(&tmp, png)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| e.to_string());
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_set_in_the_shipped_font_with_no_system_font() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20">
            <text x="2" y="15" font-family="sans-serif" font-size="14">0.5</text></svg>"#;
        let tree = usvg::Tree::from_str(svg, options()).unwrap();
        assert_eq!(tree.fontdb().len(), 1);
        let png = png_of_svg(svg).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        // Some ink was laid: the text was drawn, not dropped for want of a font.
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        let inked = pixmap.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(inked > 20, "{inked} dark pixels");
    }
}
