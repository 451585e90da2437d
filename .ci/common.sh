# Shared by .ci/start, .ci/test and .ci/bench: the repository root, a
# target directory shared between checkouts, and helpers.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# One target directory for every checkout on this machine, so a fresh clone
# reuses the dependencies that an earlier build compiled.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ningyu/target}"
export PATH="$repo/node_modules/.bin:$PATH"

# Leptos reads LEPTOS_OUTPUT_NAME at compile time to name the WASM file in
# the hydration script. cargo-leptos sets it; setting the same value for
# plain cargo commands keeps their builds identical, so `cargo test` neither
# rebuilds Leptos nor leaves a server that requests ningyu_bg.wasm.
export LEPTOS_OUTPUT_NAME=ningyu

# Debug builds erase Leptos' view types behind trait objects: they compile
# faster and stay small. Release builds (.ci/bench) run without it.
export RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}"
# Incremental caches of a clean CI run are never reused and take gigabytes.
export CARGO_INCREMENTAL=0

step() {
  local name=$1
  shift
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  local started=$SECONDS
  "$@"
  printf '\033[1m<== %s (%ss)\033[0m\n' "$name" "$((SECONDS - started))"
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until $1 responds with 200, for at most $2 seconds.
wait_ready() {
  local url=$1 seconds=${2:-60}
  for _ in $(seq 1 $((seconds * 5))); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "no 200 response from $url after $seconds s; see the server log above" >&2
  return 1
}

# Writes brotli and gzip copies of the site's scripts, styles and WASM next
# to them; the server sends those to browsers that accept them.
compress_site() {
  local site=${1:-$repo/target/site}
  find "$site" -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.css' -o -name '*.svg' \) -print0 |
    while IFS= read -r -d '' file; do
      brotli --force --quality=11 --output="$file.br" "$file"
      gzip --force --best --keep "$file"
    done
}
