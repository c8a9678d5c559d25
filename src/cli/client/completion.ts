/**
 * Shell completion for `pgprotect`, written from the commands' own definitions so it never drifts
 * from them: `source <(pgprotect completion bash)`, or in zsh `source <(pgprotect completion zsh)`
 * after `compinit`.
 */

/** What completion knows of one command. */
export interface CompletionCommand {
  readonly name: string;
  readonly description: string;
  /** Long options, with their fixed values where an option has a few (`--output table json`). */
  readonly options: ReadonlyArray<{
    readonly flag: string;
    readonly takesValue: boolean;
    readonly values?: readonly string[];
  }>;
  /** Fixed values of the first argument (`completion bash zsh`). */
  readonly argumentValues?: readonly string[];
}

/** Quotes a word for a single-quoted shell string. */
function quote(text: string): string {
  return text.replace(/'/g, "'\\''");
}

/** The bash completion script. */
export function bashCompletion(commands: readonly CompletionCommand[]): string {
  const names = commands.map((c) => c.name).join(" ");
  const optionCases = commands
    .map(
      (c) =>
        `    ${c.name}) opts='${c.options.map((o) => o.flag).join(" ")}'; args='${(c.argumentValues ?? []).join(" ")}' ;;`,
    )
    .join("\n");
  const valueCases = [
    ...new Map(
      commands.flatMap((c) =>
        c.options.filter((o) => o.values).map((o) => [o.flag, o.values ?? []] as const),
      ),
    ),
  ]
    .map(
      ([flag, values]) =>
        `    ${flag}) COMPREPLY=( $(compgen -W '${values.join(" ")}' -- "$cur") ); return ;;`,
    )
    .join("\n");
  return `# bash completion for pgprotect: source <(pgprotect completion bash)
_pgprotect() {
  local cur prev cmd opts args
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W '${names}' -- "$cur") )
    return
  fi
  case "$prev" in
${valueCases}
  esac
  opts=''; args=''
  case "$cmd" in
${optionCases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$args" -- "$cur") )
  fi
}
complete -o default -F _pgprotect pgprotect
`;
}

/** The zsh completion script. */
export function zshCompletion(commands: readonly CompletionCommand[]): string {
  const described = commands
    .map((c) => `    '${quote(`${c.name}:${c.description.replace(/:/g, "\\:")}`)}'`)
    .join("\n");
  const cases = commands
    .map((c) => {
      const specs = c.options.map((o) =>
        o.values
          ? `'${o.flag}[]:value:(${o.values.join(" ")})'`
          : o.takesValue
            ? `'${o.flag}[]:value: '`
            : `'${o.flag}[]'`,
      );
      if (c.argumentValues) specs.push(`'1:value:(${c.argumentValues.join(" ")})'`);
      return `    ${c.name}) _arguments ${specs.join(" ") || "'*::'"} ;;`;
    })
    .join("\n");
  return `#compdef pgprotect
# zsh completion for pgprotect: source <(pgprotect completion zsh) (after compinit)
_pgprotect() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  (( CURRENT-- ))
  shift words
  case "\${words[1]}" in
${cases}
  esac
}
if (( $+functions[compdef] )); then
  compdef _pgprotect pgprotect
fi
`;
}
