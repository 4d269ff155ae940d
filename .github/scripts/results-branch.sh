#!/usr/bin/env bash
# The results branch that every benchmark runner appends to.
#
#   results-branch.sh checkout DIR            worktree of the branch at DIR (an empty orphan
#                                             branch when the remote has none yet)
#   results-branch.sh push DIR PROFILE MSG    commit DIR/PROFILE and push; on a rejected push
#                                             `git pull --rebase` and retry (never force)
#
# Each runner writes only DIR/<its profile>/, so a rebase never conflicts and any number
# of runners feed one branch. Environment: RESULTS_BRANCH (perf-results), RESULTS_REMOTE
# (origin), RESULTS_ATTEMPTS (8), RESULTS_RETRY_SLEEP (seconds per attempt, 2).
set -euo pipefail

branch=${RESULTS_BRANCH:-perf-results}
remote=${RESULTS_REMOTE:-origin}
attempts=${RESULTS_ATTEMPTS:-8}
pause=${RESULTS_RETRY_SLEEP:-2}
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-perfwatch-bot}
export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-perfwatch-bot@users.noreply.github.com}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
export GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

usage() { echo "usage: $0 checkout DIR | push DIR PROFILE MESSAGE" >&2; exit 2; }

checkout() {
  local dir=$1
  if git ls-remote --exit-code --heads "$remote" "$branch" >/dev/null 2>&1; then
    git fetch -q "$remote" "$branch"
    git worktree add -q --detach "$dir" FETCH_HEAD
    git -C "$dir" checkout -q -B "$branch"
  else
    git worktree add -q --detach "$dir"
    git -C "$dir" checkout -q --orphan "$branch"
    git -C "$dir" rm -rqf --ignore-unmatch .
    git -C "$dir" clean -fdq
  fi
}

push() {
  local dir=$1 profile=$2 message=$3 attempt
  git -C "$dir" add -A -- "$profile"
  if git -C "$dir" diff --cached --quiet; then
    echo "results-branch: nothing new for $profile"
    return 0
  fi
  git -C "$dir" commit -q -m "$message ($profile)"
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    if git -C "$dir" push -q "$remote" "HEAD:refs/heads/$branch" 2>/dev/null; then
      echo "results-branch: pushed $profile (attempt $attempt)"
      return 0
    fi
    if ! git -C "$dir" pull -q --rebase "$remote" "$branch"; then
      git -C "$dir" rebase --abort 2>/dev/null || true
      echo "results-branch: rebase failed: another job wrote $profile/?" >&2
      return 1
    fi
    sleep $((attempt * pause))
  done
  echo "results-branch: gave up after $attempts attempts" >&2
  return 1
}

case ${1:-} in
  checkout) [ $# -eq 2 ] || usage; checkout "$2" ;;
  push) [ $# -eq 4 ] || usage; push "$2" "$3" "$4" ;;
  *) usage ;;
esac
