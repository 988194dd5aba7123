import NetfaultKernel
@testable import Netfault
import Testing

/// The sampler's one judgement on its own: a 4-tuple missing from one dump that came back.
@Suite struct SocketSamplerTests {
    static func seen(_ states: TCPState...) -> [ObservedTransition] {
        states.enumerated().map { ObservedTransition(time: Double($0.offset) * 0.001, state: $0.element) }
    }

    /// C1 on 5.10: the orphan's FIN was ACKed and one dump ran while the timewait socket
    /// replaced it, so the tuple was missing once (a CLOSE) and came back as FIN_WAIT2.
    @Test func aTupleBackFromAHandoffAsATimewaitSocketNeverClosed() {
        #expect(SocketSampler.missedTimewaitHandoff(Self.seen(.established, .finWait1, .close), reappearingAs: .finWait2))
        #expect(SocketSampler.missedTimewaitHandoff(Self.seen(.finWait1, .finWait2, .close), reappearingAs: .timeWait))
        #expect(SocketSampler.missedTimewaitHandoff(Self.seen(.finWait1, .closing, .close), reappearingAs: .timeWait))
        #expect(SocketSampler.missedTimewaitHandoff(Self.seen(.synSent, .established, .close), reappearingAs: .finWait2))
    }

    @Test func aTupleBackAsANewConnectionOrOutOfTIMEWAITDidClose() {
        // A new connection on the 4-tuple (C8) begins again.
        #expect(!SocketSampler.missedTimewaitHandoff(Self.seen(.timeWait, .close), reappearingAs: .synSent))
        #expect(!SocketSampler.missedTimewaitHandoff(Self.seen(.finWait2, .close), reappearingAs: .synRecv))
        // A TIME_WAIT socket is never handed over: TIME_WAIT again is a later connection's.
        #expect(!SocketSampler.missedTimewaitHandoff(Self.seen(.finWait2, .timeWait, .close), reappearingAs: .timeWait))
        // The passive closer never becomes a timewait socket.
        #expect(!SocketSampler.missedTimewaitHandoff(Self.seen(.closeWait, .lastAck, .close), reappearingAs: .timeWait))
        // Nothing missed: no CLOSE before it.
        #expect(!SocketSampler.missedTimewaitHandoff(Self.seen(.established, .finWait1), reappearingAs: .finWait2))
        #expect(!SocketSampler.missedTimewaitHandoff([], reappearingAs: .timeWait))
    }
}
