{{/* Names and labels shared by every template. */}}

{{- define "urlguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it already names the chart. */}}
{{- define "urlguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "urlguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "urlguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "urlguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "urlguard.labels" -}}
helm.sh/chart: {{ include "urlguard.chart" . }}
{{ include "urlguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: urlguard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "urlguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "urlguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The lease the replicas compete for (the controller derives the same name). */}}
{{- define "urlguard.leaseName" -}}
{{- printf "%s-controller" .Values.instanceName }}
{{- end }}
