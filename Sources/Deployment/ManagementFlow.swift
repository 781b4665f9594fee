import NetfilterModel

/// The traffic that must keep working while the firewall changes: the SSH session the command runs
/// in (`SSH_CONNECTION`) or a flow named with `--keep SRC:PORT`.
public struct ManagementFlow: Hashable, Sendable, CustomStringConvertible {
  /// Where the flow was learned.
  public enum Origin: String, Hashable, Sendable {
    /// The `SSH_CONNECTION` environment variable sshd sets: `client_ip client_port server_ip server_port`.
    case sshConnection = "SSH_CONNECTION"
    /// `--keep SRC:PORT`.
    case keep = "--keep"
  }

  public var origin: Origin
  /// The client: one address for `SSH_CONNECTION`, an address or prefix for `--keep`.
  public var client: IPPrefix
  /// The client's port of the current session (`SSH_CONNECTION` only).
  public var clientPort: UInt16?
  /// This host's address the client talks to; nil when not known (`--keep`).
  public var server: IPAddress?
  /// The port on this host: 22 for ssh.
  public var serverPort: UInt16
  /// The interface the client's packets arrive on, when the caller looked it up (`ip route get`);
  /// without it a rule testing `iifname` makes the prediction "cannot tell".
  public var inputInterface: String?

  public init(
    origin: Origin, client: IPPrefix, clientPort: UInt16? = nil, server: IPAddress? = nil, serverPort: UInt16,
    inputInterface: String? = nil
  ) {
    self.origin = origin
    self.client = client
    self.clientPort = clientPort
    self.server = server
    self.serverPort = serverPort
    self.inputInterface = inputInterface
  }

  /// `SSH session 192.0.2.10:51234 -> 10.0.0.1:22` or `--keep 192.0.2.0/24:22`.
  public var description: String {
    switch origin {
    case .sshConnection:
      let server = self.server.map { endpoint($0, serverPort) } ?? ":\(serverPort)"
      return "SSH session \(endpoint(client.address, clientPort)) -> \(server)"
    case .keep:
      let text = client.isSingleAddress ? client.address.description : client.description
      return "--keep " + (client.version == .v6 ? "[\(text)]:\(serverPort)" : "\(text):\(serverPort)")
    }
  }

  func endpoint(_ address: IPAddress, _ port: UInt16?) -> String {
    guard let port else { return address.description }
    return address.version == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
  }
}

/// Why a management flow could not be read; the message names the input and what was expected.
public struct ManagementFlowError: Error, Hashable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

extension ManagementFlow {
  /// Reads `SSH_CONNECTION` (`192.0.2.10 51234 10.0.0.1 22`, IPv4 or IPv6), as sshd sets it.
  ///
  /// A zone (`fe80::1%eth0`) names the input interface; an IPv4-mapped address (`::ffff:192.0.2.10`,
  /// from a dual-stack listener) is the IPv4 address the packets carry.
  public init(sshConnection: String, inputInterface: String? = nil) throws(ManagementFlowError) {
    let fields = sshConnection.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard fields.count == 4 else {
      throw ManagementFlowError(
        "SSH_CONNECTION '\(sshConnection)' must have 4 fields: client_ip client_port server_ip server_port")
    }
    func address(_ text: Substring, _ role: String) throws(ManagementFlowError) -> (IPAddress, String?) {
      let parts = text.split(separator: "%", maxSplits: 1)
      guard let first = parts.first, let a = IPAddress(first) else {
        throw ManagementFlowError("SSH_CONNECTION: \(role) address '\(text)' is not an IP address")
      }
      return (ManagementFlow.unmapped(a), parts.count == 2 ? String(parts[1]) : nil)
    }
    func port(_ text: Substring, _ role: String) throws(ManagementFlowError) -> UInt16 {
      guard let p = UInt16(text), p > 0 else {
        throw ManagementFlowError("SSH_CONNECTION: \(role) port '\(text)' is not a port (1-65535)")
      }
      return p
    }
    let (client, zone) = try address(fields[0], "client")
    let clientPort = try port(fields[1], "client")
    let (server, serverZone) = try address(fields[2], "server")
    let serverPort = try port(fields[3], "server")
    guard client.version == server.version else {
      throw ManagementFlowError(
        "SSH_CONNECTION: client \(fields[0]) and server \(fields[2]) are of different IP versions")
    }
    self.init(
      origin: .sshConnection, client: IPPrefix(client), clientPort: clientPort, server: server, serverPort: serverPort,
      inputInterface: inputInterface ?? zone ?? serverZone)
  }

  /// Reads `--keep SRC:PORT`: `192.0.2.10:22`, `192.0.2.0/24:22`, `[2001:db8::1]:22`,
  /// `[2001:db8::/64]:22`.
  public init(keep: String, inputInterface: String? = nil) throws(ManagementFlowError) {
    func fail(_ why: String) -> ManagementFlowError {
      ManagementFlowError("--keep '\(keep)': \(why); expected SRC:PORT, e.g. 192.0.2.10:22 or [2001:db8::1]:22")
    }
    let sourceText: Substring
    let portText: Substring
    if keep.hasPrefix("[") {
      guard let close = keep.firstIndex(of: "]") else { throw fail("missing ']' after the IPv6 source") }
      sourceText = keep[keep.index(after: keep.startIndex)..<close]
      let rest = keep[keep.index(after: close)...]
      guard rest.hasPrefix(":") else { throw fail("missing ':PORT' after ']'") }
      portText = rest.dropFirst()
    } else {
      guard let colon = keep.lastIndex(of: ":") else { throw fail("missing ':PORT'") }
      sourceText = keep[..<colon]
      if sourceText.contains(":") { throw fail("an IPv6 source needs brackets") }
      portText = keep[keep.index(after: colon)...]
    }
    guard !sourceText.isEmpty else { throw fail("missing source address") }
    guard let port = UInt16(portText), port > 0 else { throw fail("'\(portText)' is not a port (1-65535)") }
    guard let client = ManagementFlow.prefix(sourceText) else {
      throw fail("'\(sourceText)' is not an IP address or prefix")
    }
    if keep.hasPrefix("["), client.version != .v6 { throw fail("brackets are for IPv6 sources") }
    self.init(origin: .keep, client: client, serverPort: port, inputInterface: inputInterface)
  }

  /// `192.0.2.0/24` or `192.0.2.10`; nil for anything else (host bits set are cleared).
  static func prefix(_ text: Substring) -> IPPrefix? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
    guard parts.count == 2 else { return IPPrefix(address) }
    guard let length = Int(parts[1]), (0...address.bitWidth).contains(length) else { return nil }
    return IPPrefix(address: address.masked(to: length), length: length)
  }

  /// `::ffff:a.b.c.d` is IPv4 on the wire.
  static func unmapped(_ address: IPAddress) -> IPAddress {
    if case .v6(0, let low) = address, low >> 32 == 0xffff { return .v4(UInt32(truncatingIfNeeded: low)) }
    return address
  }
}
