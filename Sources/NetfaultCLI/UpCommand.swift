import ArgumentParser
import Foundation
import Netfault
import NetfaultKernel

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Build a scenario's network and servers, and hold them until Ctrl-C.",
        discussion: "Attach with the printed `ip netns exec` commands; everything is removed on Ctrl-C or SIGTERM."
    )

    @Argument(help: "A scenario ID.")
    var id: String

    func run() throws {
        let scenario = try Selection.scenarios([id], all: false)[0]
        try Preflight.check([scenario])
        CleanupRegistry.installCrashHandlers()
        let stop = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        do {
            try ScenarioHold.hold(scenario, runID: RunOptions.defaultRunID(), stop: stop) { pins, servers in
                var text = "\(scenario.id) \(scenario.name): network is up.\n"
                for server in servers { text += "  started \(server)\n" }
                text += "Attach:\n"
                for pin in pins { text += "  ip netns exec \(pin.pin) bash    # \(pin.host)\n" }
                text += "Ctrl-C tears it down.\n"
                // Unbuffered: whoever reads a pipe sees this while the network is up.
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        } catch {
            Preflight.fail("building \(scenario.id) failed: \(error)", ExitStatus.environment)
        }
        print("Torn down.")
        _ = sources
    }
}
