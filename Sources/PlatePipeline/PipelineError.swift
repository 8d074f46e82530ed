public import PlateCore

/// A pipeline that cannot be built as configured.
public struct PipelineError: Error, Hashable, CustomStringConvertible {
    // A struct over a private enum so that cases can be added without breaking callers.
    private enum Code: Hashable {
        case duplicateCamera(CameraID)
        case duplicateSink(String)
        case invalidSetting(name: String, value: String, expected: String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// Two cameras share the identifier `id`.
    public static func duplicateCamera(_ id: CameraID) -> PipelineError { PipelineError(.duplicateCamera(id)) }
    /// Two sinks share the name `name`.
    public static func duplicateSink(_ name: String) -> PipelineError { PipelineError(.duplicateSink(name)) }
    /// Setting `name` has a value out of range.
    public static func invalidSetting(_ name: String, value: some CustomStringConvertible, expected: String)
        -> PipelineError {
        PipelineError(.invalidSetting(name: name, value: value.description, expected: expected))
    }

    /// What is wrong, for humans.
    public var description: String {
        switch code {
        case .duplicateCamera(let id): "two cameras are named '\(id)'; camera ids must be unique"
        case .duplicateSink(let name): "two sinks are named '\(name)'; sink names must be unique"
        case .invalidSetting(let name, let value, let expected): "\(name) is \(value); expected \(expected)"
        }
    }
}
