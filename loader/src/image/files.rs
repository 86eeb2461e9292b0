//! Which files a command line names: files as given, and the FITS images under any
//! directory.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Endings of the files taken from a directory (in any case): FITS images, plain or
/// gzip-compressed.
const FITS_ENDINGS: [&str; 6] = [".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz"];

/// The paths given, each directory replaced by the FITS images under it (searched
/// recursively, in name order; hidden files and directories, and symbolic links to
/// directories, are not followed). A directory holding none is an error, so that a
/// mistyped directory does not load nothing quietly.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            search(path, &mut files)?;
            if files.len() == before {
                bail!(
                    "{}: no FITS images in this directory (files ending {})",
                    path.display(),
                    FITS_ENDINGS.join(", ")
                );
            }
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Each image's catalogue (`load --catalogue`), by the image's canonical path: the
/// catalogues pair with the images in the order given, one each, files only.
pub fn pair_catalogues(
    images: &[PathBuf],
    catalogues: &[PathBuf],
) -> Result<std::collections::HashMap<String, PathBuf>> {
    if catalogues.is_empty() {
        return Ok(Default::default());
    }
    if let Some(dir) = images.iter().find(|p| p.is_dir()) {
        bail!(
            "{}: --catalogue pairs with image files, not directories",
            dir.display()
        );
    }
    if catalogues.len() != images.len() {
        bail!(
            "{} catalogues for {} images: give one --catalogue per image, in the images' order",
            catalogues.len(),
            images.len()
        );
    }
    images
        .iter()
        .zip(catalogues)
        .map(|(image, catalogue)| {
            let url = std::fs::canonicalize(image)
                .with_context(|| format!("{}: cannot open", image.display()))?;
            Ok((url.display().to_string(), catalogue.clone()))
        })
        .collect()
}

fn search(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list the directory", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<PathBuf>>>()
        .with_context(|| format!("{}: cannot list the directory", dir.display()))?;
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
        let Some(name) = name.filter(|n| !n.starts_with('.')) else {
            continue;
        };
        let kind = std::fs::symlink_metadata(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?
            .file_type();
        if kind.is_dir() {
            search(&path, files)?;
        } else if FITS_ENDINGS.iter().any(|e| name.ends_with(e)) && !path.is_dir() {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_give_their_fits_images_recursively() {
        let root = std::env::temp_dir().join(format!("skytrap-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["a/deep", "b", ".hidden", "empty"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "a/2.fits",
            "a/1.FITS",
            "a/deep/3.fits.gz",
            "a/notes.txt",
            "a/.4.fits.partial",
            "a/.5.fits",
            "b/6.fts",
            ".hidden/7.fits",
        ] {
            std::fs::write(root.join(file), b"").unwrap();
        }
        std::os::unix::fs::symlink(root.join("b"), root.join("a/link-to-b")).unwrap();
        let given = root.join("given.txt");
        std::fs::write(&given, b"").unwrap();
        let found = expand(&[root.join("a"), given.clone(), root.join("b")]).unwrap();
        let expected: Vec<PathBuf> = ["a/1.FITS", "a/2.fits", "a/deep/3.fits.gz"]
            .iter()
            .map(|f| root.join(f))
            .chain([given, root.join("b/6.fts")])
            .collect();
        assert_eq!(found, expected);
        let none = format!("{:#}", expand(&[root.join("empty")]).unwrap_err());
        assert!(none.contains("empty: no FITS images"), "{none}");
        std::fs::remove_dir_all(root).unwrap();
    }
}
