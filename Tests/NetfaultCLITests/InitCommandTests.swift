import Foundation
import Testing

/// `netfault init DIR`: what it writes, and what it refuses (exit 2, nothing written).
@Suite struct InitCommandTests {
    static let expectedFiles = [
        "Package.swift", "README.md", ".gitignore", ".github/workflows/scenarios.yml",
        "Sources/Scenarios/SlowHandshake.swift", "Tests/ScenarioTests/SlowHandshakeTests.swift",
    ]

    /// A fresh folder path under the temporary directory, removed after `body`.
    static func withScratch(_ body: (URL) throws -> Void) throws {
        let scratch = CLI.temporaryFile("init")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try body(scratch)
    }

    static func read(_ root: URL, _ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func writesEveryFileWithThePublishedDependency() throws {
        try Self.withScratch { scratch in
            let directory = scratch.appendingPathComponent("edge-proxy")
            let result = try CLI.run(["init", directory.path])
            #expect(result.status == 0, "\(result)")
            for file in Self.expectedFiles + ["Sources/edge-proxy/main.swift"] {
                #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), "no \(file)")
            }
            let manifest = try Self.read(directory, "Package.swift")
            #expect(manifest.contains(#".package(url: "https://github.com/netfault/netfault", branch: "main")"#), "\(manifest)")
            #expect(manifest.contains(#"let netfault = "netfault""#), "\(manifest)")
            #expect(manifest.contains(#"name: "edge-proxy""#), "\(manifest)")
            #expect(try Self.read(directory, "Sources/edge-proxy/main.swift").contains("NetfaultCLI.main(catalog: catalog)"))
            #expect(try Self.read(directory, ".github/workflows/scenarios.yml").contains("sudo .build/debug/edge-proxy run --all"))
            #expect(result.stdout.contains("sudo .build/debug/edge-proxy run --all"), "\(result)")
        }
    }

    /// SwiftPM names a local dependency after its folder, so `.product(…, package:)` must too.
    @Test func aLocalCheckoutIsNamedAfterItsFolder() throws {
        try Self.withScratch { scratch in
            let checkout = scratch.appendingPathComponent("Netfault-Dev")
            try FileManager.default.createDirectory(at: checkout, withIntermediateDirectories: true)
            try Data("// swift-tools-version:6.0\n".utf8).write(to: checkout.appendingPathComponent("Package.swift"))
            let directory = scratch.appendingPathComponent("pkg")
            let result = try CLI.run(["init", directory.path, "--netfault-path", checkout.path + "/."])
            #expect(result.status == 0, "\(result)")
            let manifest = try Self.read(directory, "Package.swift")
            #expect(manifest.contains(#".package(path: "\#(checkout.path)")"#), "\(manifest)")
            #expect(manifest.contains(#"let netfault = "netfault-dev""#), "\(manifest)")
        }
    }

    @Test func aGitURLIsNamedWithoutItsSuffix() throws {
        try Self.withScratch { scratch in
            let directory = scratch.appendingPathComponent("pkg")
            let result = try CLI.run(["init", directory.path, "--netfault-url", "https://git.example.org/team/NetFault.git"])
            #expect(result.status == 0, "\(result)")
            let manifest = try Self.read(directory, "Package.swift")
            #expect(manifest.contains(#".package(url: "https://git.example.org/team/NetFault.git", branch: "main")"#))
            #expect(manifest.contains(#"let netfault = "netfault""#), "\(manifest)")
        }
    }

    /// The folder's name becomes a name SwiftPM and shells take.
    @Test(arguments: [("My Tests!", "my-tests"), ("2024_incident", "scenarios-2024-incident"), ("api.v2", "api-v2")])
    func thePackageNameComesFromTheFolder(folder: String, name: String) throws {
        try Self.withScratch { scratch in
            let directory = scratch.appendingPathComponent(folder)
            let result = try CLI.run(["init", directory.path])
            #expect(result.status == 0, "\(result)")
            #expect(try Self.read(directory, "Package.swift").contains(#"name: "\#(name)""#))
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("Sources/\(name)/main.swift").path))
        }
    }

    @Test func anEmptyExistingFolderIsTaken() throws {
        try Self.withScratch { scratch in
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let result = try CLI.run(["init", scratch.path])
            #expect(result.status == 0, "\(result)")
            #expect(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("Package.swift").path))
        }
    }

    @Test func aFolderWithSomethingInItIsRefusedAndLeftAlone() throws {
        try Self.withScratch { scratch in
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let mine = scratch.appendingPathComponent("notes.txt")
            try Data("mine".utf8).write(to: mine)
            let result = try CLI.run(["init", scratch.path])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("\(scratch.path) exists and is not empty"), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["notes.txt"])
        }
    }

    @Test func aFileIsRefused() throws {
        try Self.withScratch { scratch in
            try Data().write(to: scratch)
            let result = try CLI.run(["init", scratch.path])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("exists and is not a folder"), "\(result)")
        }
    }

    @Test func aPathWithoutAPackageIsRefused() throws {
        try Self.withScratch { scratch in
            let result = try CLI.run(["init", scratch.path, "--netfault-path", "/nonexistent/netfault"])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("--netfault-path /nonexistent/netfault: no Package.swift there"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path))
        }
    }

    @Test func bothSourcesAreRefused() throws {
        try Self.withScratch { scratch in
            let result = try CLI.run(["init", scratch.path, "--netfault-path", ".", "--netfault-url", "https://x/y"])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("--netfault-path or --netfault-url, not both"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path))
        }
    }
}

extension InitCommandTests {
    /// A folder that cannot be written (here: under a file) is a bad path: exit 2, nothing left.
    @Test func anUnwritableFolderIsRefused() throws {
        try Self.withScratch { scratch in
            try Data().write(to: scratch)
            let directory = scratch.appendingPathComponent("pkg")
            let result = try CLI.run(["init", directory.path])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("netfault init: cannot write the package in \(directory.path)"), "\(result)")
        }
    }
}
