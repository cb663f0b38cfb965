# Complete one command line in a real interactive zsh and print each candidate as
# "HIT:<word>:".  usage: zsh -f zsh_complete.zsh FPATH_DIR 'imgstat files --f'
#
# zsh runs on a pseudo-terminal (zsh/zpty) with compinit loading the _imgstat found in
# FPATH_DIR; compadd is wrapped to print what completion offers, and TAB is bound to a
# widget that completes, then prints DONE, so the reader knows when to stop.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; typeset -a __hits; builtin compadd -A __hits "$@"; local h; for h in $__hits; do print -r -- "HIT:$h:"; done; }'
zpty -w z 'capture() { zle complete-word; print -r -- DO""NE; }; zle -N capture; bindkey "^I" capture'
zpty -w z 'print -r -- ST""ART'
out=
while zpty -r z line; do out+=$line; [[ $out == *[$'\r\n']START* ]] && break; done
zpty -n -w z "$2"$'\t'
out=
while zpty -r z line; do out+=$line; [[ $out == *DONE* ]] && break; done
print -r -- "$out" | tr -d '\r' | grep -ao 'HIT:.*:$' | sort -u
zpty -d z
