import ArgumentParser
import NetfaultKernel

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove /run/netns pins left by netfault runs that were killed.",
        discussion: """
            Namespaces and processes of a run die with it; only --pin mounts can outlive a SIGKILL. \
            This removes exactly the pins listed in netfault's own markers (/run/netfault/<pid>.pins) \
            whose orchestrator no longer runs, and nothing else.
            """
    )

    func run() throws {
        let removed = CleanupRegistry.removeStalePins()
        print(removed.isEmpty ? "nothing to remove" : removed.map { "removed \($0)" }.joined(separator: "\n"))
    }
}
