import ArgumentParser
import Foundation

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
}

@main
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
            2 bad usage or an invalid scenario, 3 this machine cannot run it.
            """,
        subcommands: [ListCommand.self, ShowCommand.self, RunCommand.self, ClaimsCommand.self, UpCommand.self, DoctorCommand.self,
                      BenchCommand.self, CleanupCommand.self, PeerCommand.self, ReportCommand.self]
    )
}
