import NetfaultKernel

/// What the scenario does, in order, once the network is built.
public enum Step: Sendable {
    /// Starts the scripted peer.
    case peer(Peer)
    /// Starts a program.
    case command(Command)
    /// Lets time pass.
    case wait(Wait)
    /// Waits for a process, a socket state or a line of output.
    case waitFor(WaitFor)

    /// Where the step was written.
    public var location: SourceLocation {
        switch self {
        case .peer(let p): p.location
        case .command(let c): c.location
        case .wait(let w): w.location
        case .waitFor(let w): w.location
        }
    }
}

/// The built-in scripted socket program, started on `host`. It prints one event
/// per socket call, which expectations can check (`Expect.peer`).
public struct Peer: ScenarioComponent {
    /// The process's name, which expectations and waits use.
    public let name: String
    /// The host whose namespace it runs in.
    public let host: String
    /// Its script, run in order.
    public let steps: [PeerStep]
    /// Where the peer was written.
    public let location: SourceLocation

    /// The scripted peer `name` on `host`, running `steps` in order.
    public init(_ name: String, on host: String, _ steps: PeerStep..., file: String = #filePath, line: Int = #line) {
        self.init(name, on: host, steps: steps, file: file, line: line)
    }

    /// The scripted peer `name` on `host`, running `steps` in order.
    public init(_ name: String, on host: String, steps: [PeerStep], file: String = #filePath, line: Int = #line) {
        self.name = name
        self.host = host
        self.steps = steps
        self.location = SourceLocation(file: file, line: line)
    }

    /// This peer as an element of a scenario.
    public var element: ScenarioElement { .step(.peer(self)) }
}

/// One socket call of a peer. Hosts may be named where an address is wanted.
public indirect enum PeerStep: Sendable, Equatable {
    /// socket, SO_REUSEADDR, bind to all addresses, listen(backlog).
    case listen(port: Int, backlog: Int = 128, ipv6: Bool = false)
    /// accept one connection; it becomes the current connection.
    case accept
    /// connect to `host` (a host name or an address literal); with `timeout`, fail with ETIMEDOUT after it.
    case connect(to: String, port: Int, timeout: Double? = nil, ipv6: Bool = false)
    /// bind the next connect's socket to a local port (on the wildcard address of its family).
    case bind(port: Int)
    /// `bytes` in total, in `writes` write() calls `pause` seconds apart.
    case write(bytes: Int, writes: Int = 1, pause: Double = 0)
    /// read until `bytes` arrived or end of file.
    case read(bytes: Int)
    /// read until end of file.
    case readToEnd
    /// sleep this many seconds.
    case sleep(Double)
    /// TCP_NODELAY: no Nagle.
    case noDelay
    /// SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (seconds, seconds, probes).
    case keepalive(idle: Int, interval: Int, count: Int)
    /// SO_LINGER {on, 0}: close() sends RST.
    case lingerZero
    /// SO_RCVBUF for the next socket, in bytes.
    case receiveBuffer(Int)
    /// TCP_USER_TIMEOUT: how long sent data, or a SYN, may stay unacknowledged before the
    /// connection fails with ETIMEDOUT, however many retransmissions the sysctls allow.
    case userTimeout(Double)
    /// shutdown(SHUT_WR): send a FIN and keep reading.
    case shutdownWrite
    /// close() the connection.
    case close
    /// close() the listener.
    case closeListener
    /// keep every socket open until the scenario ends.
    case hold
    /// exit at once, leaving open sockets for the kernel to close (a crash).
    case exit(status: Int = 0)
    /// these steps, this many times.
    case `repeat`(Int, [PeerStep])
    /// a UDP socket bound to `port` on the wildcard address: the current datagram socket
    /// (a pending `receiveBuffer` applies to it).
    case udpBind(port: Int, ipv6: Bool = false)
    /// one datagram of `bytes` to `host`:`port` from the current datagram socket (a new one if none).
    case sendDatagram(to: String, port: Int, bytes: Int, ipv6: Bool = false)
    /// one datagram, its whole size the result; when none comes within `timeout`, the
    /// event fails with EAGAIN and the script goes on.
    case receiveDatagram(timeout: Double = 1)
}

/// Any program, started on `host` with its arguments; its output and exit are recorded.
///
/// ```swift
/// Command("curl", on: "client", ["curl", "-sS", "-w", "%{time_connect}", "http://server:8000/"],
///         environment: .adding(["LC_ALL": "C"]), workingDirectory: "/tmp", input: .text("hello\n"))
/// ```
public struct Command: ScenarioComponent {
    /// The process's name, which expectations, waits and output files use.
    public let name: String
    /// The host whose namespace it runs in.
    public let host: String
    /// The program and its arguments.
    public let arguments: [String]
    /// Added to netfault's own environment, or replacing it.
    public let environment: ProcessEnvironment
    /// The program's current directory (nil: netfault's own).
    public let workingDirectory: String?
    /// Its standard input: nothing (/dev/null), a file, or given bytes.
    public let input: ProcessInput
    /// Where the command was written.
    public let location: SourceLocation

    /// Runs `arguments` (the program, then its arguments, looked up in PATH) in `host`'s namespace.
    public init(_ name: String, on host: String, _ arguments: [String], environment: ProcessEnvironment = .inherited,
                workingDirectory: String? = nil, input: ProcessInput = .none,
                file: String = #filePath, line: Int = #line) {
        self.name = name
        self.host = host
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
        self.location = SourceLocation(file: file, line: line)
    }

    /// This command as an element of a scenario.
    public var element: ScenarioElement { .step(.command(self)) }
}

/// Let time pass, in seconds.
public struct Wait: ScenarioComponent {
    /// How long to wait, in seconds.
    public let seconds: Double
    /// Where the wait was written.
    public let location: SourceLocation

    /// Lets `seconds` pass before the next step.
    public init(_ seconds: Double, file: String = #filePath, line: Int = #line) {
        self.seconds = seconds
        self.location = SourceLocation(file: file, line: line)
    }

    /// This wait as an element of a scenario.
    public var element: ScenarioElement { .step(.wait(self)) }
}

/// Wait until a condition holds, at most `timeout` seconds (then the scenario fails).
public struct WaitFor: ScenarioComponent {
    /// What a `WaitFor` waits for.
    public enum Condition: Sendable {
        /// The process of this name exits.
        case exit(String)
        /// A matching socket is in the state (`.close`: none is left).
        case state(SocketSelector, TCPState)
        /// A line of the process's output (on `stream`, or either when nil) matches.
        case output(OutputPattern, process: String, stream: StandardStream?)
    }

    /// What is waited for.
    public let condition: Condition
    /// At most this many seconds; then the scenario fails, saying what was seen.
    public let timeout: Double
    /// Where the wait was written.
    public let location: SourceLocation

    /// Waits until the process `process` exits.
    public init(exitOf process: String, timeout: Double = 10, file: String = #filePath, line: Int = #line) {
        self.condition = .exit(process)
        self.timeout = timeout
        self.location = SourceLocation(file: file, line: line)
    }

    /// Waits until a matching socket is in `state`; `.close` waits until none is left.
    public init(_ selector: SocketSelector, in state: TCPState, timeout: Double = 10,
                file: String = #filePath, line: Int = #line) {
        self.condition = .state(selector, state)
        self.timeout = timeout
        self.location = SourceLocation(file: file, line: line)
    }

    /// Waits until a line of `process`'s output matches the regular expression `pattern`
    /// (NSRegularExpression syntax), on `stream`, or on either when nil. Lines are matched
    /// one by one as the program writes them, each without its newline (a line longer than
    /// 64 KiB in 64 KiB pieces): a pattern never spans two lines. The wait fails at once
    /// when the process has exited and closed its output without a match.
    public init(output pattern: String, of process: String, in stream: StandardStream? = nil, timeout: Double = 10,
                file: String = #filePath, line: Int = #line) {
        self.condition = .output(.matches(pattern), process: process, stream: stream)
        self.timeout = timeout
        self.location = SourceLocation(file: file, line: line)
    }

    /// This wait as an element of a scenario.
    public var element: ScenarioElement { .step(.waitFor(self)) }
}

/// Which sockets of a host an expectation is about.
public struct SocketSelector: Sendable, Equatable, CustomStringConvertible {
    /// Connections, or listeners.
    public enum Role: Sendable, Equatable {
        /// Connections (not listeners), or listeners.
        case connection, listener
    }
    /// The host whose sockets are meant.
    public let host: String
    /// The port at either end of a connection, or the listener's port.
    public let port: Int
    /// Connections or listeners.
    public let role: Role

    /// Connections on `host` with `port` at either end (not listeners).
    public static func connection(on host: String, port: Int) -> SocketSelector {
        SocketSelector(host: host, port: port, role: .connection)
    }

    /// The listening socket on `host`'s `port`.
    public static func listener(on host: String, port: Int) -> SocketSelector {
        SocketSelector(host: host, port: port, role: .listener)
    }

    public var description: String {
        role == .listener ? "\(host)'s listener on port \(port)" : "\(host)'s connection on port \(port)"
    }
}
