import ArgumentParser
import Foundation

/// `netfault init DIR`: a new package of scenarios, ready to build, run and test.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a new package of scenarios: one on real programs, a test, an executable, a CI workflow.",
        discussion: """
            DIR must not exist or be empty: nothing is ever overwritten. The package depends on \
            netfault at \(PackageScaffold.NetfaultSource.published.description) unless told otherwise.
            """
    )

    @Argument(help: "The folder to create (its name becomes the package's and the executable's).")
    var directory: String

    @Option(help: ArgumentHelp("Depend on a local netfault checkout instead.", valueName: "PATH"))
    var netfaultPath: String?

    @Option(help: ArgumentHelp("Depend on netfault at this git URL (branch main) instead.", valueName: "URL"))
    var netfaultURL: String?

    func validate() throws {
        if netfaultPath != nil && netfaultURL != nil {
            throw ValidationError("name --netfault-path or --netfault-url, not both")
        }
        if let netfaultPath, !FileManager.default.fileExists(atPath: absolute(netfaultPath) + "/Package.swift") {
            throw ValidationError("--netfault-path \(netfaultPath): no Package.swift there (expected a netfault checkout)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ValidationError("\(directory) exists and is not a folder") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if !entries.isEmpty {
                throw ValidationError("\(directory) exists and is not empty (\(entries.count) entries): "
                                      + "netfault init writes a new package and overwrites nothing")
            }
        }
    }

    func run() throws {
        let source: PackageScaffold.NetfaultSource =
            if let netfaultPath { .path(absolute(netfaultPath)) }
            else if let netfaultURL { .url(netfaultURL, branch: "main") }
            else { .published }
        let scaffold = PackageScaffold(name: PackageScaffold.packageName(forDirectory: directory), netfault: source)
        let root = URL(fileURLWithPath: directory)
        let existed = FileManager.default.fileExists(atPath: root.path)
        do {
            for file in scaffold.files {
                let url = root.appendingPathComponent(file.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url, options: .withoutOverwriting)
            }
        } catch {
            // Half a package is worse than none: remove what was written (the folder was empty).
            if existed {
                for entry in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
                    try? FileManager.default.removeItem(at: root.appendingPathComponent(entry))
                }
            } else {
                try? FileManager.default.removeItem(at: root)
            }
            FileHandle.standardError.write(Data("netfault init: cannot write the package in \(directory): \(error.localizedDescription)\n".utf8))
            throw ExitCode(ExitStatus.invalid)
        }
        print("""
            Wrote package \(scaffold.name) in \(directory) (netfault from \(source.description)):
            \(scaffold.files.map { "  " + $0.path }.joined(separator: "\n"))
            Next:
              cd \(directory)
              swift build && sudo .build/debug/\(scaffold.name) run --all
              sudo swift test
            """)
    }

    private func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

extension PackageScaffold.NetfaultSource: CustomStringConvertible {
    var description: String {
        switch self {
        case .url(let url, let branch): "\(url) (branch \(branch))"
        case .path(let path): path
        }
    }
}
