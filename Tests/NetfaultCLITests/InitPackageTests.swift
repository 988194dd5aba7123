import Foundation
import Testing

/// The package `netfault init` writes, depending on this checkout, used as its README says:
/// it builds; as root its test and its executable's `run --all` pass; actionlint finds
/// nothing in its workflow.
@Suite(.serialized) struct InitPackageTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// One build folder for every package these tests write, kept between runs (git ignores
    /// `.build-*`): the first build compiles netfault again (209 s here, 2 cores shared with
    /// other builds), later ones only the new package and what of netfault changed (17–76 s).
    static let scratch = checkout.appendingPathComponent(".build-init-test")
    static let name = "incident-tests"

    /// Writes the package in a fresh temporary folder, runs `body`, removes the folder.
    static func withNewPackage(_ body: (URL) throws -> Void) throws {
        let parent = CLI.temporaryFile("init-package")
        defer { try? FileManager.default.removeItem(at: parent) }
        let package = parent.appendingPathComponent(name)
        let result = try CLI.run(["init", package.path, "--netfault-path", checkout.path])
        try #require(result.status == 0, "\(result)")
        try body(package)
    }

    static func swift(_ arguments: [String], in package: URL) throws -> CLI.Result {
        try CLI.run(["swift"] + arguments + ["--package-path", package.path, "--scratch-path", scratch.path],
                    binary: URL(fileURLWithPath: "/usr/bin/env"))
    }

    @Test(.timeLimit(.minutes(15))) func itBuilds() throws {
        try Self.withNewPackage { package in
            let build = try Self.swift(["build", "--build-tests"], in: package)
            #expect(build.status == 0, "\(build)")
        }
    }

    @Test(.enabled(if: isRoot, "needs root: the scenario builds network namespaces"), .timeLimit(.minutes(15)))
    func itsTestAndItsCatalogPassAsRoot() throws {
        try Self.withNewPackage { package in
            let test = try Self.swift(["test"], in: package)
            #expect(test.status == 0, "\(test)")
            #expect(test.stdout.contains("Test curlWaitsOutALostSynAck() passed"), "\(test)")

            let executable = Self.scratch.appendingPathComponent("debug/\(Self.name)")
            let run = try CLI.run(["run", "--all"], binary: executable)
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains("1 passed, 0 failed, 0 skipped"), "\(run)")
            // The server the scenario started is gone with it.
            #expect(Leftover.processes(withArguments: ["http.server", "8000", "--bind", "10.77.1.2"]).isEmpty)
        }
    }

    @Test(.enabled(if: Actionlint.executable != nil, "actionlint is not installed (scripts/bootstrap.sh installs it)"))
    func itsWorkflowIsCleanOfActionlint() throws {
        try Self.withNewPackage { package in
            let workflow = package.appendingPathComponent(".github/workflows/scenarios.yml")
            let lint = try CLI.run(["-no-color", workflow.path], binary: Actionlint.executable)
            #expect(lint.status == 0, "\(lint)")
            #expect(lint.stdout.isEmpty, "\(lint)")
        }
    }
}

/// actionlint (PyPI, installed by scripts/bootstrap.sh): on PATH, or in the scripts folder
/// of the python3 that installed it.
enum Actionlint {
    static let executable: URL? = {
        var folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let scripts = try? CLI.run(["python3", "-c", "import sysconfig; print(sysconfig.get_path('scripts'))"],
                                      binary: URL(fileURLWithPath: "/usr/bin/env")) {
            folders.append(scripts.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return folders.map { URL(fileURLWithPath: $0).appendingPathComponent("actionlint") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()
}

enum Leftover {
    /// Pids whose command line contains these consecutive arguments.
    static func processes(withArguments arguments: [String]) -> [String] {
        let wanted = Data(("\0" + arguments.joined(separator: "\0") + "\0").utf8)
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return cmdline.range(of: wanted) != nil
        }
    }
}
