# Sourced by build-control-plane.sh and build-node.sh: writes, in the current directory, a tiny
# Go module that requires k8s.io/kubernetes@$K8S_VERSION with every staging module pinned to its
# published tag. k8s.io/kubernetes cannot be `go install`ed directly: its go.mod replaces every
# k8s.io/* staging module with a relative path; this module lets `go build` use the real ones.
k8s_builder_module() {
  local version=$1 staging="v0.${1#v1.}" gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$version" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  printf 'module mlta.local/k8sbuild\n\ngo 1.24\n\nrequire k8s.io/kubernetes %s\n' "$version" > go.mod
  grep -oE 'k8s.io/[a-z0-9-]+ => \./staging/src/k8s.io/[a-z0-9-]+' "$gomod" \
    | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}' >> go.mod
}
