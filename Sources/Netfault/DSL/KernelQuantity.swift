import NetfaultKernel

/// A number the running kernel decides where kernels differ and no sysctl or version says
/// how (a fix taken into stable kernels): measured on the kernel in a scratch namespace
/// (`NetfaultKernel`'s behaviour probes) when a scenario that names it runs.
public enum KernelQuantity: Sendable, Equatable, CustomStringConvertible {
    /// The connection requests (SYN_RECV) a listener with this backlog keeps in its SYN
    /// queue, syncookies off: backlog + 1 since Linux's fix of January 2025, backlog before.
    case synQueueCapacity(backlog: Int)
    /// How many of `syns` SYNs arriving at a listener with this backlog, none of them
    /// completing, find its SYN queue full: `syns` − capacity.
    case synQueueOverflow(backlog: Int, syns: Int)

    /// This quantity on the running kernel.
    func onRunningKernel() -> Result<Int64, KernelError> {
        switch self {
        case .synQueueCapacity(let backlog):
            SynQueueCapacity.requests(backlog: backlog).map(Int64.init)
        case .synQueueOverflow(let backlog, let syns):
            SynQueueCapacity.requests(backlog: backlog).map { Int64(max(0, syns - $0)) }
        }
    }

    public var description: String {
        switch self {
        case .synQueueCapacity(let backlog): "the SYN queue's capacity at backlog \(backlog)"
        case .synQueueOverflow(let backlog, let syns): "\(syns) SYNs less the SYN queue's capacity at backlog \(backlog)"
        }
    }
}

extension Expectation {
    /// The expectation with its `equalsKernel` comparisons measured on the running kernel.
    func measuringKernel() -> Expectation {
        let kind: Kind
        switch self.kind {
        case .count(let host, let state, let port, let comparison):
            kind = .count(host: host, state: state, port: port, comparison.measuringKernel())
        case .socketInfo(let selector, let field, let comparison):
            kind = .socketInfo(selector, field, comparison.measuringKernel())
        case .counter(let host, let name, let comparison):
            kind = .counter(host: host, name: name, comparison.measuringKernel())
        case .faultCount(let fault, let comparison):
            kind = .faultCount(fault: fault, comparison.measuringKernel())
        case .segmentCount(let selector, let comparison):
            kind = .segmentCount(selector, comparison.measuringKernel())
        case .kernelDrops(let host, let reason, let port, let comparison):
            kind = .kernelDrops(host: host, reason: reason, port: port, comparison.measuringKernel())
        default:
            return self
        }
        return Expectation(kind: kind, location: location)
    }

    private init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}
