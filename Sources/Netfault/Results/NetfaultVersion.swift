/// The version of this netfault, the one place it is kept: `netfault --version` prints it and
/// every JSON document netfault writes carries it as `netfaultVersion`.
///
/// A plain constant, not `git describe` at build time: a package built from a tarball, from a
/// `.package(url:)` checkout or inside a VM has no reliable git metadata, and a constant
/// reads the same everywhere. Releases: the release commit sets it to the tag without its
/// `v` ("0.1.0" for tag `v0.1.0`); the commit after the tag sets the next version with
/// "-dev" ("0.2.0-dev"), so a build from main never claims to be a release.
public enum NetfaultVersion {
    /// Semantic version: MAJOR.MINOR.PATCH, with "-dev" between releases.
    public static let current = "0.1.0-dev"
}
