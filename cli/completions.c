/*
 * completions: print imgstat's bash, zsh or fish completion script, generated from the
 * command and option tables (options.c) at build time, so the scripts complete exactly
 * what --help lists and cannot drift from it.
 *
 * usage: imgstat-completions bash|zsh|fish > FILE
 *
 * What each script completes, per command (the first word after imgstat, if it names one):
 * the command names (first word only) beside IMAGE files; every option the command takes,
 * long and short; a K_ENUM option's words as that command accepts them (--format json|text
 * for the statistics, also csv|jsonl for files); files for a value whose placeholder names a
 * FILE or PATH, directories for a DIR; nothing for other values (REF, N, SIZE ...); and files
 * for the operands the command's usage line names.
 */
#include <stdio.h>
#include <string.h>

#include "options.h"

/* What completes an option's value. */
enum value { V_NONE, V_TEXT, V_WORDS, V_FILE, V_DIR };

static enum value value_of(const struct cli_option *o)
{
    if (!o->arg)
        return V_NONE;
    if (o->kind == K_ENUM)
        return V_WORDS;
    if (strstr(o->arg, "DIR"))
        return V_DIR;
    if (strstr(o->arg, "FILE") || strstr(o->arg, "PATH"))
        return V_FILE;
    return V_TEXT;
}

static bool takes(const struct cli_option *o, int cmd)
{
    return (o->cmds & ON(cmd)) != 0;
}

/* Text inside single quotes: sh and zsh close, escape and reopen; fish escapes. */
static void quoted(const char *s, bool fish)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            fputs(fish ? "\\'" : "'\\''", stdout);
        else if (*s == '\\' && fish)
            fputs("\\\\", stdout);
        else
            putchar(*s == '\n' ? ' ' : *s);
    }
    putchar('\'');
}

/* A command's sentence up to its first comma or full stop, on one line, for a menu. */
static const char *summary(int cmd, char *buf, size_t cap)
{
    const char *w = cli_commands[cmd].what;
    size_t n = strcspn(w, ",.");
    snprintf(buf, cap, "%.*s", (int)n, w);
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return buf;
}

/* The commands named by a word (all but the default one), joined by sep. */
static void command_names(const char *sep)
{
    for (int k = 1; k < CMD_COUNT; k++)
        printf("%s%s", k > 1 ? sep : "", cli_commands[k].name);
}

/* The operands of a command's usage line: "IMAGE..." -> name IMAGE, many.  Returns the
 * number found; usage words in brackets ([OPTIONS]) are not operands. */
static int operands(int cmd, char names[][32], bool *many, int cap)
{
    const char *u = cli_commands[cmd].usage;
    int n = 0;
    while (*u && n < cap) {
        size_t len = strcspn(u, " ");
        if (u[0] == '[') { /* an optional group, [--db FILE] as [OPTIONS]: not an operand */
            const char *close = strchr(u, ']');
            len = close ? (size_t)(close - u) + 1 : strlen(u);
        } else if (len > 0) {
            bool dots = len > 3 && strncmp(u + len - 3, "...", 3) == 0;
            snprintf(names[n], 32, "%.*s", (int)(dots ? len - 3 : len), u);
            many[n++] = dots;
        }
        u += len + (u[len] == ' ');
    }
    return n;
}

/* ---- bash ---------------------------------------------------------------------------- */

static void bash_values(int cmd)
{
    puts("        case $prev in");
    for (size_t i = 0; i < cli_noptions; i++) {
        const struct cli_option *o = &cli_options[i];
        enum value v = value_of(o);
        if (!takes(o, cmd) || v == V_NONE)
            continue;
        if (o->short_name)
            printf("        -%c|--%s", o->short_name, o->name);
        else
            printf("        --%s", o->name);
        if (v == V_WORDS) {
            char words[128];
            cli_enum_words(o, (enum cli_cmd)cmd, " ", words, sizeof words);
            printf(") COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;\n", words);
        } else if (v == V_TEXT) {
            puts(") COMPREPLY=(); return ;;");
        } else {
            printf(") _imgstat_paths %s \"$cur\"; return ;;\n", v == V_DIR ? "-d" : "-f");
        }
    }
    puts("        esac");
}

static void bash_command(int cmd)
{
    printf("    %s)\n        opts='", cmd ? cli_commands[cmd].name : "*");
    bool first = true;
    for (size_t i = 0; i < cli_noptions; i++) {
        const struct cli_option *o = &cli_options[i];
        if (!takes(o, cmd))
            continue;
        if (o->short_name)
            printf("%s-%c", first ? "" : " ", o->short_name);
        printf("%s--%s", first && !o->short_name ? "" : " ", o->name);
        first = false;
    }
    puts("'");
    bash_values(cmd);
    puts("        ;;");
}

static void bash(void)
{
    puts("# bash completion for imgstat(1), generated from its option table (cli/options.c) by\n"
         "# cli/completions.c: change the table, not this file.\n"
         "\n"
         "_imgstat_paths()\n"
         "{\n"
         "    compopt -o filenames 2>/dev/null\n"
         "    mapfile -t COMPREPLY < <(compgen \"$1\" -- \"$2\")\n"
         "}\n"
         "\n"
         "_imgstat()\n"
         "{\n"
         "    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= opts=\n"
         "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
         "    # --option=value: bash splits the word at '=' (COMP_WORDBREAKS)\n"
         "    if [[ $cur == = ]]; then\n"
         "        cur=\n"
         "    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
         "        prev=${COMP_WORDS[COMP_CWORD - 2]}\n"
         "    fi\n"
         "    # a command is the first word after imgstat");
    printf("    case ${COMP_WORDS[1]-} in\n    ");
    command_names("|");
    puts(") ((COMP_CWORD > 1)) && cmd=${COMP_WORDS[1]} ;;\n"
         "    esac\n"
         "    # after --, only operands\n"
         "    local i\n"
         "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "        [[ ${COMP_WORDS[i]} == -- ]] && _imgstat_paths -f \"$cur\" && return 0\n"
         "    done\n"
         "    case $cmd in");
    for (int k = 1; k <= CMD_COUNT; k++)
        bash_command(k % CMD_COUNT); /* the default command last: its pattern is * */
    printf("    esac\n"
           "    if [[ $cur == -* ]]; then\n"
           "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
           "        return\n"
           "    fi\n"
           "    _imgstat_paths -f \"$cur\"\n"
           "    ((COMP_CWORD == 1)) && COMPREPLY+=($(compgen -W '");
    command_names(" ");
    puts("' -- \"$cur\"))\n"
         "    return 0\n"
         "}\n"
         "complete -F _imgstat imgstat");
}

/* ---- zsh ----------------------------------------------------------------------------- */

/* Text for zsh inside an _arguments spec's [...] or message: \, [, ], : escaped. */
static void zsh_text(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        if (strchr("\\[]:", *s))
            buf[n++] = '\\';
        buf[n++] = *s == '\n' ? ' ' : *s;
    }
    buf[n] = '\0';
}

/* One _arguments spec: '(-j --jobs)--jobs=[help]:N: ' */
static void zsh_spec(const struct cli_option *o, int cmd, bool shrt)
{
    char spec[512], help[256], msg[64], action[160] = " ";
    zsh_text(help, sizeof help, o->help);
    zsh_text(msg, sizeof msg, o->arg ? o->arg : "");
    enum value v = value_of(o);
    if (v == V_WORDS) {
        char words[128];
        cli_enum_words(o, (enum cli_cmd)cmd, " ", words, sizeof words);
        snprintf(action, sizeof action, "(%s)", words);
    } else if (v == V_FILE || v == V_DIR) {
        snprintf(action, sizeof action, "_files%s", v == V_DIR ? " -/" : "");
    }
    int n = 0;
    if (o->short_name)
        n = snprintf(spec, sizeof spec, "(-%c --%s)", o->short_name, o->name);
    if (shrt)
        n += snprintf(spec + n, sizeof spec - (size_t)n, "-%c%s", o->short_name, o->arg ? "+" : "");
    else
        n += snprintf(spec + n, sizeof spec - (size_t)n, "--%s%s", o->name, o->arg ? "=" : "");
    snprintf(spec + n, sizeof spec - (size_t)n, "[%s]%s%s%s%s", help, o->arg ? ":" : "", msg,
             o->arg ? ":" : "", o->arg ? action : "");
    fputs("      ", stdout);
    quoted(spec, false);
    puts(" \\");
}

static void zsh_command(int cmd)
{
    printf("  (%s)\n", cmd ? cli_commands[cmd].name : "*");
    if (cmd == CMD_STATS)
        puts("    if ((CURRENT == 2)) && [[ $PREFIX != -* ]]; then\n"
             "      _describe -t commands command cmds\n"
             "      _files\n"
             "      return\n"
             "    fi");
    puts("    _arguments -s -S : \\");
    for (size_t i = 0; i < cli_noptions; i++) {
        const struct cli_option *o = &cli_options[i];
        if (!takes(o, cmd))
            continue;
        if (o->short_name)
            zsh_spec(o, cmd, true);
        zsh_spec(o, cmd, false);
    }
    char names[8][32];
    bool many[8];
    int n = operands(cmd, names, many, 8);
    for (int k = 0; k < n; k++) {
        if (strchr(names[k], '|')) { /* a choice of words: info|clear */
            printf("      '%s:%s:(", many[k] ? "*" : "", names[k]);
            for (const char *p = names[k]; *p; p++)
                putchar(*p == '|' ? ' ' : *p);
            puts(")' \\");
        } else {
            printf("      '%s:%s:_files' \\\n", many[k] ? "*" : "", names[k]);
        }
    }
    puts("      && return\n    ;;");
}

static void zsh(void)
{
    puts("#compdef imgstat\n"
         "# zsh completion for imgstat(1), generated from its option table (cli/options.c) by\n"
         "# cli/completions.c: change the table, not this file.\n"
         "\n"
         "_imgstat() {\n"
         "  local -a cmds\n"
         "  cmds=(");
    for (int k = 1; k < CMD_COUNT; k++) {
        char what[256], line[320], sum[200];
        zsh_text(what, sizeof what, summary(k, sum, sizeof sum));
        snprintf(line, sizeof line, "%s:%s", cli_commands[k].name, what);
        fputs("    ", stdout);
        quoted(line, false);
        putchar('\n');
    }
    puts("  )\n"
         "  local cmd=\n"
         "  case $words[2] in");
    fputs("  (", stdout);
    command_names("|");
    puts(") ((CURRENT > 2)) && cmd=$words[2] ;;\n"
         "  esac\n"
         "  if [[ -n $cmd ]]; then\n"
         "    shift words\n"
         "    ((CURRENT--))\n"
         "  fi\n"
         "  case $cmd in");
    for (int k = 1; k <= CMD_COUNT; k++)
        zsh_command(k % CMD_COUNT);
    puts("  esac\n"
         "  return 1\n"
         "}\n"
         "\n"
         "if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
         "  _imgstat \"$@\"\n"
         "else\n"
         "  compdef _imgstat imgstat\n"
         "fi");
}

/* ---- fish ---------------------------------------------------------------------------- */

static void fish_option(const struct cli_option *o, int cmd)
{
    printf("complete -c imgstat -n '__imgstat_using %s'", cmd ? cli_commands[cmd].name : "\"\"");
    if (o->short_name)
        printf(" -s %c", o->short_name);
    printf(" -l %s", o->name);
    enum value v = value_of(o);
    if (v == V_WORDS) {
        char words[128];
        cli_enum_words(o, (enum cli_cmd)cmd, " ", words, sizeof words);
        printf(" -x -a '%s'", words);
    } else if (v == V_TEXT) {
        fputs(" -x", stdout);
    } else if (v == V_DIR) {
        fputs(" -x -a '(__fish_complete_directories)'", stdout);
    } else if (v == V_FILE) {
        fputs(" -r -F", stdout);
    }
    fputs(" -d ", stdout);
    quoted(o->help, true);
    putchar('\n');
}

static void fish(void)
{
    fputs("# fish completion for imgstat(1), generated from its option table (cli/options.c) by\n"
          "# cli/completions.c: change the table, not this file.\n"
          "\n"
          "# Is the command line using the command $argv[1] (\"\" for the default one)?\n"
          "function __imgstat_using\n"
          "    set -l words (commandline -opc)\n"
          "    set -l cmd ''\n"
          "    if set -q words[2]; and contains -- $words[2] ",
          stdout);
    command_names(" ");
    puts("\n"
         "        set cmd $words[2]\n"
         "    end\n"
         "    test \"$cmd\" = \"$argv[1]\"\n"
         "end\n");
    for (int k = 1; k < CMD_COUNT; k++) {
        printf("complete -c imgstat -n 'test (count (commandline -opc)) -eq 1' -a %s -d ",
               cli_commands[k].name);
        char sum[200];
        quoted(summary(k, sum, sizeof sum), true);
        putchar('\n');
    }
    for (int k = 0; k < CMD_COUNT; k++)
        for (size_t i = 0; i < cli_noptions; i++)
            if (takes(&cli_options[i], k))
                fish_option(&cli_options[i], k);
}

int main(int argc, char **argv)
{
    const char *shell = argc == 2 ? argv[1] : "";
    if (strcmp(shell, "bash") == 0)
        bash();
    else if (strcmp(shell, "zsh") == 0)
        zsh();
    else if (strcmp(shell, "fish") == 0)
        fish();
    else {
        fputs("usage: imgstat-completions bash|zsh|fish\n", stderr);
        return EXIT_USAGE;
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_ERROR;
}
