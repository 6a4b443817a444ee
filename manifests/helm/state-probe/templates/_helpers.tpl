{{/*
The chart writes no object of its own: each template reads a file of the
kustomize tree (files/ links into manifests/ and repair-scripts/), changes what
a value sets, and hands it to "state-probe.emit".
*/}}

{{/*
The labels Helm adds to every object, on top of the kustomize ones. They go on
metadata.labels only, never on selectors or pod templates; HelmChartTest
ignores exactly these keys when it compares with kustomize's output.
*/}}
{{- define "state-probe.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Prints one object as a YAML document: (list $ object namespaced). Adds the
label the kustomizations add (app.kubernetes.io/part-of) and Helm's labels, and
puts a namespaced object into the release namespace.
*/}}
{{- define "state-probe.emit" -}}
{{- $root := index . 0 -}}
{{- $obj := index . 1 -}}
{{- $namespaced := index . 2 -}}
{{- $meta := $obj.metadata -}}
{{- $labels := dict -}}
{{- range $k, $v := ($meta.labels | default dict) }}{{ $_ := set $labels $k $v }}{{ end -}}
{{- $_ := set $labels "app.kubernetes.io/part-of" "state-probe" -}}
{{- range $k, $v := (include "state-probe.helmLabels" $root | fromYaml) }}{{ $_ := set $labels $k $v }}{{ end -}}
{{- $_ := set $meta "labels" $labels -}}
{{- if $namespaced }}{{ $_ := set $meta "namespace" $root.Release.Namespace }}{{ end }}
---
{{ toYaml $obj }}
{{ end }}

{{/* A file under files/ parsed as one object: (list $ "base/service.yaml"). */}}
{{- define "state-probe.read" -}}
{{- $root := index . 0 -}}
{{- $path := printf "files/%s" (index . 1) -}}
{{- $text := $root.Files.Get $path -}}
{{- if not $text }}{{ fail (printf "the chart has no %s: is the files/ link into manifests/ intact?" $path) }}{{ end -}}
{{- $text | replace "namespace: state-probe" (printf "namespace: %s" $root.Release.Namespace) -}}
{{- end }}

{{/* The ServiceAccount's username, as the API server names it in admission requests. */}}
{{- define "state-probe.username" -}}
system:serviceaccount:{{ .Release.Namespace }}:state-probe
{{- end }}

{{/*
The data of the ConfigMap state-probe-repair-scripts, as JSON: the files
repair-scripts/kustomization.yaml lists (the catalog and the shipped scripts),
then repairScripts.extraScripts; catalog.yaml gains
repairScripts.extraCatalogEntries at its end.
*/}}
{{- define "state-probe.repairScriptsData" -}}
{{- $k := include "state-probe.read" (list . "repair-scripts/kustomization.yaml") | fromYaml -}}
{{- $data := dict -}}
{{- range (index $k.configMapGenerator 0).files -}}
{{- $_ := set $data . ($.Files.Get (printf "files/repair-scripts/%s" .)) -}}
{{- end -}}
{{- range $name, $content := .Values.repairScripts.extraScripts -}}
{{- if hasKey $data $name }}{{ fail (printf "repairScripts.extraScripts.%s: a shipped file has that name; choose another" $name) }}{{ end -}}
{{- if not (regexMatch "^[A-Za-z0-9][A-Za-z0-9._-]*$" $name) }}{{ fail (printf "repairScripts.extraScripts: %q is not a plain file name (a ConfigMap key: letters, digits, '.', '_', '-')" $name) }}{{ end -}}
{{- $_ := set $data $name $content -}}
{{- end -}}
{{- with .Values.repairScripts.extraCatalogEntries -}}
{{- $catalog := index $data "catalog.yaml" | fromYaml -}}
{{- range $i, $e := . -}}
{{- if not (kindIs "map" $e) }}{{ fail (printf "repairScripts.extraCatalogEntries[%d]: must be a mapping (name, path, drifts, ...)" $i) }}{{ end -}}
{{- if not (hasKey $data (toString $e.path)) }}{{ fail (printf "repairScripts.extraCatalogEntries[%d] (%v): path %q is neither a shipped script nor one of repairScripts.extraScripts" $i $e.name $e.path) }}{{ end -}}
{{- end -}}
{{- $_ := set $catalog "scripts" (concat $catalog.scripts .) -}}
{{- $_ := set $data "catalog.yaml" (printf "# The shipped catalog (repair-scripts/catalog.yaml) with the chart's\n# repairScripts.extraCatalogEntries appended; its comments document the fields.\n%s" (toYaml $catalog)) -}}
{{- end -}}
{{- toJson $data -}}
{{- end }}
