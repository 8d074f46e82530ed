import PlateCore
import Testing

/// The one rule for how loudly adapters report retried failures.
@Suite struct RepeatedFailureTests {
    @Test func theFirstAndEveryTwentiethFailureAreLoud() {
        let loud = (1...100).filter(RepeatedFailure.isLoud)
        #expect(loud == [1, 20, 40, 60, 80, 100])
    }
}
