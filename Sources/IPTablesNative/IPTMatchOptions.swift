/// The options of the `physdev` match: bridge ports and bridged-ness.
public struct IPTPhysdev: Sendable, Equatable {
  /// `--physdev-in PORT` (a trailing `+` is a wildcard).
  public var input: IPTNegatable<String>?
  /// `--physdev-out PORT`.
  public var output: IPTNegatable<String>?
  /// `--physdev-is-in`: true, `! --physdev-is-in`: false, absent: nil.
  public var isIn: Bool?
  /// `--physdev-is-out`, as `isIn`.
  public var isOut: Bool?
  /// `--physdev-is-bridged`, as `isIn`.
  public var isBridged: Bool?

  /// Creates the options.
  public init(
    input: IPTNegatable<String>? = nil, output: IPTNegatable<String>? = nil, isIn: Bool? = nil, isOut: Bool? = nil,
    isBridged: Bool? = nil
  ) {
    self.input = input
    self.output = output
    self.isIn = isIn
    self.isOut = isOut
    self.isBridged = isBridged
  }
}

/// The options of the `owner` match: the socket's owner, for locally generated packets.
public struct IPTOwner: Sendable, Equatable {
  /// `--uid-owner A[-B]` (a user name is its uid).
  public var uid: IPTNegatable<ClosedRange<UInt32>>?
  /// `--gid-owner A[-B]`.
  public var gid: IPTNegatable<ClosedRange<UInt32>>?
  /// `--suppl-groups`: the gid test also looks at the supplementary groups.
  public var supplementaryGroups: Bool
  /// `--socket-exists`: true, `! --socket-exists`: false, absent: nil.
  public var socketExists: Bool?

  /// Creates the options.
  public init(
    uid: IPTNegatable<ClosedRange<UInt32>>? = nil, gid: IPTNegatable<ClosedRange<UInt32>>? = nil,
    supplementaryGroups: Bool = false, socketExists: Bool? = nil
  ) {
    self.uid = uid
    self.gid = gid
    self.supplementaryGroups = supplementaryGroups
    self.socketExists = socketExists
  }
}

/// The options of the `addrtype` match: `XT_ADDRTYPE_*` bit sets of the routing address type.
public struct IPTAddressType: Sendable, Equatable {
  /// `--src-type T,…`.
  public var source: IPTNegatable<UInt16>?
  /// `--dst-type T,…`.
  public var destination: IPTNegatable<UInt16>?
  /// `--limit-iface-in`: only the input interface's addresses count.
  public var limitInput: Bool
  /// `--limit-iface-out`.
  public var limitOutput: Bool

  /// Creates the options.
  public init(
    source: IPTNegatable<UInt16>? = nil, destination: IPTNegatable<UInt16>? = nil, limitInput: Bool = false,
    limitOutput: Bool = false
  ) {
    self.source = source
    self.destination = destination
    self.limitInput = limitInput
    self.limitOutput = limitOutput
  }
}

/// `-m ttl` (IPv4) or `-m hl` (IPv6): a comparison of the TTL or hop limit.
public struct IPTHopLimitMatch: Sendable, Equatable {
  /// `IPT_TTL_*`/`IP6T_HL_*`: 0 equal, 1 not equal (`! --ttl-eq`), 2 less than, 3 greater than.
  public var mode: UInt8
  /// The value compared with.
  public var value: UInt8

  /// Creates a comparison.
  public init(mode: UInt8, value: UInt8) {
    self.mode = mode
    self.value = value
  }
}

/// A TOS byte test or change: `0x10/0x3f` (the bits of `mask` that are compared or replaced).
public struct IPTTOSValue: Sendable, Equatable {
  /// The value.
  public var value: UInt8
  /// The mask.
  public var mask: UInt8

  /// Creates a value.
  public init(value: UInt8, mask: UInt8 = 0xFF) {
    self.value = value
    self.mask = mask
  }
}

/// The options of the `statistic` match.
public struct IPTStatistic: Sendable, Equatable {
  /// `--mode random --probability P` or `--mode nth --every N --packet P`.
  public enum Mode: Sendable, Equatable {
    /// The probability as the kernel holds it: `lround(P × 2³¹)`.
    case random(probability: UInt32)
    /// Every `every`th packet, starting with packet `packet` (0-based, below `every`).
    case nth(every: UInt32, packet: UInt32)
  }

  /// The mode.
  public var mode: Mode
  /// `! --probability`, `! --every`.
  public var negated: Bool

  /// Creates the options.
  public init(mode: Mode, negated: Bool = false) {
    self.mode = mode
    self.negated = negated
  }
}

/// The options of the `recent` match: a named list of recently seen addresses.
public struct IPTRecent: Sendable, Equatable {
  /// `--set` (`XT_RECENT_SET`), `--rcheck` (`XT_RECENT_CHECK`), `--update`, `--remove`.
  public enum Command: UInt8, Sendable, Equatable {
    /// `--rcheck`.
    case check = 1
    /// `--set`.
    case set = 2
    /// `--update`.
    case update = 4
    /// `--remove`.
    case remove = 8
  }

  /// What to do with the list.
  public var command: Command
  /// `! --rcheck`: the match result is inverted.
  public var negated: Bool
  /// `--seconds N` (0 is unlimited).
  public var seconds: UInt32
  /// `--hitcount N` (0 is none).
  public var hitCount: UInt32
  /// `--reap`: purge entries older than `seconds`.
  public var reap: Bool
  /// `--rttl`: the TTL must match too.
  public var ttl: Bool
  /// `--name NAME` (`DEFAULT` when not given).
  public var name: String
  /// `--rdest`: the destination address is remembered instead of the source (`--rsource`).
  public var destination: Bool
  /// `--mask ADDR` as network-order bytes; nil for the default, all ones.
  public var mask: [UInt8]?

  /// Creates the options.
  public init(
    command: Command, negated: Bool = false, seconds: UInt32 = 0, hitCount: UInt32 = 0, reap: Bool = false,
    ttl: Bool = false, name: String = "DEFAULT", destination: Bool = false, mask: [UInt8]? = nil
  ) {
    self.command = command
    self.negated = negated
    self.seconds = seconds
    self.hitCount = hitCount
    self.reap = reap
    self.ttl = ttl
    self.name = name
    self.destination = destination
    self.mask = mask
  }
}

/// The options of the `hashlimit` match as the kernel holds them (`struct hashlimit_cfg3`),
/// computed from the text as libxt_hashlimit computes them.
public struct IPTHashLimit: Sendable, Equatable {
  /// `--hashlimit-name NAME`: the table in /proc/net/ipt_hashlimit.
  public var name: String
  /// `XT_HASHLIMIT_*`: the hashed fields (`--hashlimit-mode`), `INVERT` (`--hashlimit-above`),
  /// `BYTES` (a rate in b/s), `RATE_MATCH`.
  public var mode: UInt32
  /// The rate: `XT_HASHLIMIT_SCALE_v2` × seconds per packet, or a byte cost.
  public var average: UInt64
  /// `--hashlimit-burst` (in rate units for a byte rate).
  public var burst: UInt64
  /// `--hashlimit-htable-size` (0: the kernel's default).
  public var size: UInt32
  /// `--hashlimit-htable-max`.
  public var max: UInt32
  /// `--hashlimit-htable-gcinterval` in ms.
  public var gcInterval: UInt32
  /// `--hashlimit-htable-expire` in ms.
  public var expire: UInt32
  /// `--hashlimit-rate-interval` in seconds (with `--hashlimit-rate-match`).
  public var interval: UInt32
  /// `--hashlimit-srcmask`.
  public var sourceMask: UInt8
  /// `--hashlimit-dstmask`.
  public var destinationMask: UInt8

  /// Creates the options.
  public init(
    name: String, mode: UInt32, average: UInt64, burst: UInt64, size: UInt32 = 0, max: UInt32 = 0,
    gcInterval: UInt32 = 1000, expire: UInt32, interval: UInt32 = 0, sourceMask: UInt8, destinationMask: UInt8
  ) {
    self.name = name
    self.mode = mode
    self.average = average
    self.burst = burst
    self.size = size
    self.max = max
    self.gcInterval = gcInterval
    self.expire = expire
    self.interval = interval
    self.sourceMask = sourceMask
    self.destinationMask = destinationMask
  }
}
