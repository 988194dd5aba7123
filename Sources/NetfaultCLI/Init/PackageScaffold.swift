import Foundation

/// The files of a new user package (`netfault init`): pure, so tests can read them without
/// writing anything.
struct PackageScaffold {
    /// Where the new package gets netfault from.
    enum NetfaultSource: Equatable {
        case url(String, branch: String)
        case path(String)

        /// The README's address, branch main.
        static let published = NetfaultSource.url("https://github.com/netfault/netfault", branch: "main")

        /// SwiftPM names a dependency after the last component of its URL or path (not after
        /// its manifest's name), and `.product(name:package:)` must use that name: a checkout
        /// in a folder called `netfault-dev` is package "netfault-dev".
        var packageIdentity: String {
            switch self {
            case .url(let url, _):
                let last = URL(string: url)?.lastPathComponent ?? url
                return (last.hasSuffix(".git") ? String(last.dropLast(4)) : last).lowercased()
            case .path(let path):
                return URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent.lowercased()
            }
        }
    }

    struct File: Equatable {
        let path: String
        let contents: String
    }

    /// The package's and its executable's name.
    let name: String
    let netfault: NetfaultSource

    /// A name SwiftPM and a shell both take, from the folder's name: lowercase letters,
    /// digits and dashes, starting with a letter ("My Tests" → "my-tests").
    static func packageName(forDirectory directory: String) -> String {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent.lowercased()
        let words = folder.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        let name = words.joined(separator: "-")
        guard let first = name.first, first.isLetter else { return "scenarios" + (name.isEmpty ? "" : "-" + name) }
        return name
    }

    var files: [File] {
        [
            File(path: "Package.swift", contents: ManifestTemplate.text(name: name, netfault: netfault)),
            File(path: "Sources/Scenarios/SlowHandshake.swift", contents: ScenarioTemplate.text),
            File(path: "Sources/\(name)/main.swift", contents: ExecutableTemplate.text),
            File(path: "Tests/ScenarioTests/SlowHandshakeTests.swift", contents: ScenarioTestTemplate.text),
            File(path: ".github/workflows/scenarios.yml", contents: WorkflowTemplate.text(executable: name)),
            File(path: "README.md", contents: ReadmeTemplate.text(name: name)),
            File(path: ".gitignore", contents: ".build/\n/results/\n"),
        ]
    }
}
