public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP GET the loader asks a fetcher to make.
public struct ImageFetchRequest: Sendable, Equatable {
    /// The URL, as the client gave it (or as a redirect named it).
    public var url: URL
    /// The URL's host name, for the `Host` header and TLS server name.
    public var host: String
    /// The port to connect to.
    public var port: Int
    /// The address to connect to: resolved and checked by the loader. The fetcher must connect
    /// here and nowhere else (no second DNS lookup), so a host cannot resolve to a public address
    /// for the check and a private one for the connection.
    public var address: IPAddress
    /// Refuse (throw) once the body passes this many bytes.
    public var maxBytes: Int
    /// Give up after this long.
    public var timeout: Duration

    /// A request.
    public init(url: URL, host: String, port: Int, address: IPAddress, maxBytes: Int, timeout: Duration) {
        self.url = url
        self.host = host
        self.port = port
        self.address = address
        self.maxBytes = maxBytes
        self.timeout = timeout
    }
}

/// What a fetch returned.
public struct ImageFetchResponse: Sendable, Equatable {
    /// HTTP status.
    public var status: Int
    /// The `Location` header of a redirect.
    public var location: String?
    /// The body (empty for redirects).
    public var body: Data

    /// A response.
    public init(status: Int, location: String? = nil, body: Data = Data()) {
        self.status = status
        self.location = location
        self.body = body
    }
}

/// Makes single HTTP(S) GETs for `recognize_url` and Huawei's `url`: the CLI wires one built on
/// AsyncHTTPClient (PlateHTTP does not import it).
///
/// The contract: connect to `request.address` only (for AsyncHTTPClient: `dnsOverride` of
/// `request.host` to it), never follow redirects (return them; the loader checks where they go),
/// stop reading and throw past `request.maxBytes`, and give up after `request.timeout`.
public protocol ImageURLFetcher: Sendable {
    /// Makes the request.
    func fetch(_ request: ImageFetchRequest) async throws -> ImageFetchResponse
}

/// Resolves host names to addresses.
public protocol HostResolver: Sendable {
    /// Every address `host` resolves to.
    func resolve(host: String) async throws -> [IPAddress]
}

/// Resolves with the system resolver (`getaddrinfo`), off the cooperative thread pool.
public struct SystemHostResolver: HostResolver {
    /// A resolver.
    public init() {}

    /// Every IPv4 and IPv6 address of `host`.
    public func resolve(host: String) async throws -> [IPAddress] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try SystemHostResolver.lookUp(host) })
            }
        }
    }

    private static func lookUp(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            throw URLLoadError.resolution(host, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var node = list
        while let entry = node?.pointee {
            if let sockaddr = entry.ai_addr {
                switch entry.ai_family {
                case AF_INET:
                    let v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                    addresses.append(.v4(UInt32(bigEndian: v4)))
                case AF_INET6:
                    let bytes = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    addresses.append(.v6(bytes))
                default:
                    break
                }
            }
            node = entry.ai_next
        }
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}

/// Why an image could not be fetched from a URL.
struct URLLoadError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable { case invalid, refused, resolution, redirects, status, tooLarge, timeout, failed, disabled }
    private let kind: Kind
    /// What went wrong, in words (safe to show the client).
    let message: String

    static func invalid(_ url: String) -> URLLoadError { .init(kind: .invalid, message: "not an http or https URL: \(url.prefix(200))") }
    static func refused(host: String, address: IPAddress, why: AddressClass) -> URLLoadError {
        .init(kind: .refused, message: "refusing to fetch from \(host): it resolves to \(address), a \(why.rawValue) address")
    }
    static func refusedName(_ host: String) -> URLLoadError {
        .init(kind: .refused, message: "refusing to fetch from \(host): it names an instance-metadata service")
    }
    static func resolution(_ host: String, _ why: String) -> URLLoadError {
        .init(kind: .resolution, message: "cannot resolve \(host): \(why)")
    }
    static func tooManyRedirects(_ limit: Int) -> URLLoadError { .init(kind: .redirects, message: "more than \(limit) redirects") }
    static func status(_ code: Int) -> URLLoadError { .init(kind: .status, message: "the image URL answered HTTP \(code)") }
    static func tooLarge(_ limit: Int) -> URLLoadError { .init(kind: .tooLarge, message: "the image at the URL is larger than \(limit) bytes") }
    static func timeout(_ seconds: Double) -> URLLoadError { .init(kind: .timeout, message: "fetching the image took longer than \(seconds) s") }
    static func failed(_ message: String) -> URLLoadError { .init(kind: .failed, message: "fetching the image failed: \(message)") }
    static let disabled = URLLoadError(kind: .disabled, message: "fetching images from URLs is disabled on this server")

    /// Whether the fetch was refused for where it would go (a private, loopback, metadata... address).
    var isRefusedAddress: Bool { kind == .refused }
    /// Whether the image was larger than allowed.
    var isTooLarge: Bool { kind == .tooLarge }
    /// Whether the fetch timed out.
    var isTimeout: Bool { kind == .timeout }
    /// Whether there were too many redirects.
    var isTooManyRedirects: Bool { kind == .redirects }
    /// The message.
    var description: String { message }
}

/// Fetches an image from a client-supplied URL without letting the client reach what it should not:
/// resolves the host, refuses loopback, private, link-local, metadata and other non-public
/// addresses unless the allow-list names them, pins the connection to the checked address,
/// checks every redirect the same way, and caps size, time and redirect count.
struct URLImageLoader: Sendable {
    let fetcher: (any ImageURLFetcher)?
    let resolver: any HostResolver
    let allowList: AllowList
    let maxBytes: Int
    let timeoutSeconds: Double
    let maxRedirects: Int

    /// The image bytes at `text`.
    func load(_ text: String) async throws(URLLoadError) -> Data {
        guard let fetcher else { throw .disabled }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutSeconds * 1000))
        do {
            return try await withThrowingTaskGroup(of: Data?.self) { group in
                group.addTask { try await self.follow(text, fetcher: fetcher, deadline: deadline) }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let data = first else { throw URLLoadError.timeout(timeoutSeconds) }
                return data
            }
        } catch let error as URLLoadError {
            throw error
        } catch is CancellationError {
            throw .timeout(timeoutSeconds)
        } catch {
            throw .failed(String(describing: error).prefix(300).description)
        }
    }

    private func follow(_ text: String, fetcher: any ImageURLFetcher, deadline: ContinuousClock.Instant) async throws -> Data {
        guard var url = URL(string: text.trimmingASCIIWhitespace()) else { throw URLLoadError.invalid(text) }
        var redirects = 0
        while true {
            let (host, port) = try URLImageLoader.target(of: url)
            let address = try await vet(host: host)
            let remaining = deadline - .now
            guard remaining > .zero else { throw URLLoadError.timeout(timeoutSeconds) }
            let response = try await fetcher.fetch(ImageFetchRequest(
                url: url, host: host, port: port, address: address, maxBytes: maxBytes, timeout: remaining))
            switch response.status {
            case 200...299:
                guard response.body.count <= maxBytes else { throw URLLoadError.tooLarge(maxBytes) }
                return response.body
            case 301, 302, 303, 307, 308:
                redirects += 1
                guard redirects <= maxRedirects else { throw URLLoadError.tooManyRedirects(maxRedirects) }
                guard let location = response.location, let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                    throw URLLoadError.status(response.status)
                }
                url = next
            default:
                throw URLLoadError.status(response.status)
            }
        }
    }

    /// The host and port of an http(s) URL.
    static func target(of url: URL) throws(URLLoadError) -> (host: String, port: Int) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let rawHost = url.host, !rawHost.isEmpty else { throw .invalid(url.absoluteString) }
        let host = AllowList.normalizedHost(rawHost)
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw .invalid(url.absoluteString) }
        return (host, port)
    }

    /// Resolves `host` and returns the address to connect to, or throws when any address it
    /// resolves to is one a fetch may not reach: a name with one public and one private address
    /// is refused rather than raced.
    func vet(host: String) async throws -> IPAddress {
        if metadataHostNames.contains(host), !allowList.entries.contains(.host(host)) { throw URLLoadError.refusedName(host) }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            do {
                addresses = try await resolver.resolve(host: host)
            } catch let error as URLLoadError {
                throw error
            } catch {
                throw URLLoadError.resolution(host, String(describing: error))
            }
        }
        guard let first = addresses.first else { throw URLLoadError.resolution(host, "no addresses") }
        for address in addresses {
            let kind = address.classification
            if !kind.isFetchable, !allowList.allows(host: host, address: address) {
                throw URLLoadError.refused(host: host, address: address, why: kind)
            }
        }
        return first
    }
}
