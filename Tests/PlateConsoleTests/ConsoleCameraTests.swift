import Foundation
import PlateConsole
import PlateCore
import Testing

/// How a node's heartbeat row becomes the console's camera.
struct ConsoleCameraTests {
    let row = CameraHeartbeat(node: "box-2", cameraID: CameraID("gate"), status: "connected", inputFPS: 12.5,
                              recognizedFPS: 12.4, lagSeconds: 0.3, dropped: 2, reconnects: 1, events: 40,
                              lastError: "read timeout", updatedAt: Date(timeIntervalSince1970: 1_800_000_000))

    @Test func aFreshRowKeepsEveryField() {
        let camera = ConsoleCamera(heartbeat: row, stale: false)
        #expect(camera.id == "gate" && camera.status == "connected" && camera.node == "box-2")
        #expect(camera.inputFPS == 12.5 && camera.recognizedFPS == 12.4 && camera.lagSeconds == 0.3)
        #expect(camera.dropped == 2 && camera.reconnects == 1 && camera.events == 40 && camera.lastError == "read timeout")
        #expect(camera.updatedAt == row.updatedAt)
    }

    @Test func aStaleRowShowsStaleWithoutFrameRatesButAnEndedCameraStaysEnded() {
        let stale = ConsoleCamera(heartbeat: row, stale: true)
        #expect(stale.status == "stale" && stale.inputFPS == 0 && stale.recognizedFPS == 0)
        #expect(stale.events == 40 && stale.node == "box-2")
        var ended = row
        ended.status = "ended"
        #expect(ConsoleCamera(heartbeat: ended, stale: true).status == "ended")
    }
}
