import type { Diagnostic, Range } from '@cutover/rewrite'

/** The four alias types of sudoers(5); `Cmd_Alias` is read as `Cmnd`. */
export type AliasType = 'User' | 'Runas' | 'Host' | 'Cmnd'

/**
 * What a list member names. `user` `%group` `%#gid` `%:nonunix` `%:#gid` `+netgroup` `#uid`
 * (user and runas lists), `host` `network` `+netgroup` (host lists), `command` (command lists);
 * `alias` and `all` in every list.
 */
export type MemberKind =
  | 'all'
  | 'alias'
  | 'user'
  | 'uid'
  | 'group'
  | 'gid'
  | 'nonunixgroup'
  | 'nonunixgid'
  | 'netgroup'
  | 'host'
  | 'network'
  | 'command'

/** A command digest such as `sha256:…`. */
export interface Digest {
  algorithm: 'sha224' | 'sha256' | 'sha384' | 'sha512'
  value: string
  range: Range
}

/** One member of a user, runas, host or command list. Offsets index the document source. */
export interface Member {
  kind: MemberKind
  /** The name with escapes and quotes removed, without `%`, `+`, `#` prefixes; `ALL` for `all`. */
  value: string
  negated: boolean
  /** The whole member, from the first `!` or digest to its last character. */
  range: Range
  /** The word itself (without `!` and digests): what a rename replaces. */
  word: Range
  /** Commands: the path (or `ALL`, `sudoedit`, `list`, a `^regex$`). */
  path?: string
  /** Commands: arguments joined by single spaces, `""` for "no arguments", undefined for any. */
  args?: string
  digests?: Digest[]
}

/** `(users : groups)` of a command spec. */
export interface Runas {
  users?: Member[]
  groups?: Member[]
  range: Range
}

/** `NOPASSWD:`, `SETENV:`, … */
export interface Tag {
  name: string
  range: Range
}

/** `CWD=`, `CHROOT=`, `ROLE=`, `TYPE=`, `TIMEOUT=`, `NOTBEFORE=`, `NOTAFTER=`, … */
export interface CmndOption {
  name: string
  value: string
  range: Range
}

/** One command of a rule with what is written before it (not what it inherits). */
export interface CmndSpec {
  runas?: Runas
  options: CmndOption[]
  tags: Tag[]
  command: Member
  range: Range
}

/** `hosts = commands` of a user specification. */
export interface Privilege {
  hosts: Member[]
  cmnds: CmndSpec[]
  range: Range
}

/** One `NAME = members` of an alias line (a line may hold several, joined by `:`). */
export interface AliasDef {
  name: string
  nameRange: Range
  members: Member[]
  range: Range
  membersRange: Range
}

/** One `name`, `!name`, `name=value`, `name+=value` or `name-=value` of a Defaults line. */
export interface DefaultsParam {
  name: string
  negated: boolean
  op?: '=' | '+=' | '-='
  value?: string
  range: Range
}

interface EntryBase {
  /** Offsets of the entry in the source: `end` is after its line break (or at the end of the text). */
  start: number
  end: number
  /** End of the entry's content: before any trailing blanks, comment and the line break. */
  contentEnd: number
  /** The exact source text of the entry, line break included. */
  raw: string
}

/** A blank line or a comment line. */
export interface TriviaEntry extends EntryBase {
  type: 'blank' | 'comment'
}
/** `#include`, `#includedir`, `@include`, `@includedir`. */
export interface IncludeEntry extends EntryBase {
  type: 'include'
  directive: string
  path: string
}
/** `Defaults`, `Defaults:users`, `Defaults@hosts`, `Defaults>runas`, `Defaults!commands`. */
export interface DefaultsEntry extends EntryBase {
  type: 'defaults'
  binding?: { kind: ':' | '@' | '>' | '!'; members: Member[] }
  params: DefaultsParam[]
}
/** `User_Alias`, `Runas_Alias`, `Host_Alias`, `Cmnd_Alias` / `Cmd_Alias` with one or more definitions. */
export interface AliasEntry extends EntryBase {
  type: 'alias'
  aliasType: AliasType
  keyword: string
  defs: AliasDef[]
}
/** A user specification: `users hosts = (runas) TAGS: commands [: hosts = …]`. */
export interface RuleEntry extends EntryBase {
  type: 'rule'
  users: Member[]
  privileges: Privilege[]
}
/** A line that could not be parsed; its text is kept byte for byte and an error says why. */
export interface UnparsedEntry extends EntryBase {
  type: 'unparsed'
}

/** One logical line of a sudoers file (continuations included). */
export type Entry =
  TriviaEntry | IncludeEntry | DefaultsEntry | AliasEntry | RuleEntry | UnparsedEntry

/** A parsed sudoers file: the entries cover the source exactly, in order. */
export interface SudoersDocument {
  source: string
  entries: Entry[]
  /** Parse errors (severity error), each with a range into `source`. */
  errors: Diagnostic[]
  /** `\r\n` when the file uses it, else `\n`: inserted lines follow the file. */
  eol: string
}
