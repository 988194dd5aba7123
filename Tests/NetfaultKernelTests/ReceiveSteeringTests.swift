import Testing
import NetfaultKernel

@Suite("Receive steering masks")
struct ReceiveSteeringTests {
    @Test("rps_cpus masks: one bit per CPU, 32-bit groups most significant first")
    func masks() {
        #expect(ReceiveSteering.mask(cpus: 1) == "1")
        #expect(ReceiveSteering.mask(cpus: 2) == "3")
        #expect(ReceiveSteering.mask(cpus: 12) == "fff")
        #expect(ReceiveSteering.mask(cpus: 32) == "ffffffff")
        #expect(ReceiveSteering.mask(cpus: 33) == "1,ffffffff")
        #expect(ReceiveSteering.mask(cpus: 64) == "ffffffff,ffffffff")
        #expect(ReceiveSteering.mask(cpus: 70) == "3f,ffffffff,ffffffff")
        // No CPU count (a failed query) still steers to CPU 0 rather than writing an empty mask.
        #expect(ReceiveSteering.mask(cpus: 0) == "1")
    }
}
