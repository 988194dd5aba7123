import ArgumentParser
import Foundation
import Netfault

/// Exit codes, as the README documents them.
enum ExitStatus {
    /// All scenarios passed (skips allowed).
    static let passed: Int32 = 0
    /// An expectation failed.
    static let failed: Int32 = 1
    /// Bad usage or an invalid scenario.
    static let invalid: Int32 = 2
    /// This machine cannot run it (not root, a missing kernel feature).
    static let environment: Int32 = 3
    /// The forced fault backend (`--fault-backend`) cannot serve a fault of the scenario.
    static let unservable: Int32 = 4
    /// A saved result (`report`, `claims --from`, `matrix`) whose `schemaVersion` this build
    /// cannot read: written by a newer netfault, or older than it still reads.
    static let unreadableVersion: Int32 = 5

    /// The machine's errors first (nothing else could be judged), then the scenarios'
    /// (a process that cannot start, a peer that exited early), then failed expectations.
    static func of(_ result: RunResult) -> Int32 {
        let scenarios = result.scenarios
        if scenarios.contains(where: { $0.errorCause == .environment }) { return environment }
        if scenarios.contains(where: { $0.errorCause == .scenario }) { return invalid }
        return scenarios.contains(where: { $0.status == .failed }) ? failed : passed
    }
}

/// The command line for a catalog of scenarios: `netfault`'s own, or one of yours.
///
/// ```swift
/// // Sources/my-scenarios/main.swift — `swift run my-scenarios run --all`
/// import NetfaultCLI
/// NetfaultCLI.main(catalog: [myScenario, another])
/// ```
public enum NetfaultCLI {
    /// Parses the process's arguments, runs the command over `catalog`, and exits
    /// with netfault's exit codes.
    public static func main(catalog: [Scenario]) -> Never {
        CommandCatalog.scenarios = catalog
        NetfaultCommand.main()
        exit(ExitStatus.passed)
    }
}

/// The scenarios `list`, `show`, `run`, `claims` and `up` choose from.
enum CommandCatalog {
    nonisolated(unsafe) static var scenarios: [Scenario] = []

    static func scenario(id: String) -> Scenario? {
        scenarios.first { $0.id.caseInsensitiveCompare(id) == .orderedSame }
    }
}

struct NetfaultCommand: ParsableCommand {
    /// ArgumentParser exits 64 (EX_USAGE) for usage errors; netfault promises 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitStatus.invalid)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "netfault",
        abstract: "Build small networks of namespaces, run real TCP peers in them, and check what the kernel did.",
        discussion: """
            Exit codes: 0 all passed (skips allowed), 1 an expectation failed, \
            2 bad usage or an invalid scenario, 3 this machine cannot run it, \
            4 the forced fault backend cannot serve a fault, 5 a saved result's schemaVersion is one this netfault cannot read.
            """,
        version: NetfaultVersion.current,
        subcommands: [ListCommand.self, ShowCommand.self, RunCommand.self, SweepCommand.self, ClaimsCommand.self, MatrixCommand.self,
                      UpCommand.self, DoctorCommand.self, BenchCommand.self, CleanupCommand.self, PeerCommand.self,
                      ReportCommand.self, InitCommand.self]
    )
}
