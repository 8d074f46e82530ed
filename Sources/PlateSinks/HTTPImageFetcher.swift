public import Foundation
internal import AsyncHTTPClient

/// Fetches one image over HTTP(S) for `recognize_url`-style requests: connects to an address the caller
/// already checked (the host name is pinned to it, so DNS cannot change between check and fetch),
/// follows no redirect (the caller checks each hop), and stops reading past `maxBytes`.
public struct HTTPImageFetcher: Sendable {
    /// The body grew past the size cap.
    public struct TooLarge: Error, CustomStringConvertible {
        /// What happened.
        public var description: String { "the image is larger than the size limit" }
    }

    /// A fetcher.
    public init() {}

    /// GETs `url` from `address`; returns the status, the `Location` header and the body (empty for redirects).
    public func fetch(url: URL, host: String, address: String, maxBytes: Int, timeout: Duration) async throws
        -> (status: Int, location: String?, body: Data) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = [host: address]
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let (seconds, atto) = timeout.components
            let response = try await client.execute(HTTPClientRequest(url: url.absoluteString),
                                                    timeout: .nanoseconds(seconds * 1_000_000_000 + atto / 1_000_000_000))
            var body = Data()
            if !(300..<400).contains(response.status.code) {
                for try await chunk in response.body {
                    guard body.count + chunk.readableBytes <= maxBytes else { throw TooLarge() }
                    body.append(contentsOf: chunk.readableBytesView)
                }
            }
            try await client.shutdown()
            return (Int(response.status.code), response.headers.first(name: "location"), body)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
