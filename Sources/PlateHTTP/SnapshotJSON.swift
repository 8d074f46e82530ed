public import Foundation
public import PlateCore

/// The Plate Recognizer snapshot response as a value, for callers outside the server (`platestream read`),
/// so the command line and `POST /v1/plate-reader/` print the same JSON.
public enum SnapshotJSON {
    /// The documented response for one image; `usage` only when calls are counted (the on-premise SDK's field).
    public static func plateRecognizer(_ result: RecognitionResult, mmc: Bool, processing: Duration, filename: String,
                                       cameraID: String?, timestamp: Date, usage: (calls: Int, maxCalls: Int?)? = nil) -> JSONValue {
        let full = PlateRecognizerAPI.response(result, mmc: mmc, calls: usage?.calls ?? 0, maxCalls: usage?.maxCalls,
                                               processing: processing, filename: filename, cameraID: cameraID, timestamp: timestamp)
        guard usage == nil, case .object(let members) = full else { return full }
        return .object(members.filter { $0.key != "usage" })
    }
}
