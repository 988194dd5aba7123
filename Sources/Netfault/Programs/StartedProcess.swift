import NetfaultKernel

/// A process the steps started, with what watches its output.
final class StartedProcess {
    let name: String
    let host: String
    let command: String
    let process: ChildProcess
    let watch: OutputWatch
    /// Still running when the scenario ended: netfault stopped it.
    var stoppedAtEnd = false

    init(name: String, host: String, command: String, process: ChildProcess, watch: OutputWatch) {
        self.name = name
        self.host = host
        self.command = command
        self.process = process
        self.watch = watch
    }
}

extension ProcessOutput {
    /// The kept part of a stream as the JSON holds it.
    init(_ kept: KeptOutput) {
        self.init(bytes: kept.total, cut: kept.cut, head: String(decoding: kept.head, as: UTF8.self),
                  tail: String(decoding: kept.tail, as: UTF8.self))
    }
}
