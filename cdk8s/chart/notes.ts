// templates/NOTES.txt: printed by `helm install`; says how to reach the UIs for the chosen exposure.
import { ALERTMANAGER_REPLICAS_GO } from '../values.js';

export const NOTES_TXT = `Vigil {{ .Chart.AppVersion }} is installed in namespace {{ .Release.Namespace }}.

Watch it come up:
  kubectl -n {{ .Release.Namespace }} get pods -w
  helm test {{ .Release.Name }} -n {{ .Release.Namespace }}

User interfaces:
{{- if eq .Values.prometheus.service.type "NodePort" }}
  Prometheus:    node port {{ .Values.prometheus.service.nodePort | default "(assigned)" }}  ({{ .Values.prometheus.externalUrl }})
{{- else }}
  Prometheus:    kubectl -n {{ .Release.Namespace }} port-forward svc/vigil-prometheus 9090:9090    then http://localhost:9090
{{- end }}
{{- if gt (int .Values.prometheus.shards) 1 }}
  Prometheus runs {{ .Values.prometheus.shards }} shards (vigil-prometheus, vigil-prometheus-shard-1, ...), each with
  only its namespaces: the Prometheus above is shard 0.{{ if .Values.thanos.enabled }} Query all of them through Thanos Query.{{ else }} Set thanos.enabled=true for one view over all of them.{{ end }}
{{- end }}
{{- if .Values.thanos.enabled }}
{{- if eq .Values.thanos.query.service.type "NodePort" }}
  Thanos Query:  node port {{ .Values.thanos.query.service.nodePort | default "(assigned)" }}
{{- else }}
  Thanos Query:  kubectl -n {{ .Release.Namespace }} port-forward svc/vigil-thanos-query 10902:10902  then http://localhost:10902
{{- end }}
{{- end }}
{{- if eq .Values.alertmanager.service.type "NodePort" }}
  Alertmanager:  node port {{ .Values.alertmanager.service.nodePort | default "(assigned)" }}  ({{ .Values.alertmanager.externalUrl }})
{{- else }}
  Alertmanager:  kubectl -n {{ .Release.Namespace }} port-forward svc/vigil-alertmanager 9093:9093  then http://localhost:9093
{{- end }}
{{- if .Values.mailCatcher.enabled }}
{{- if eq .Values.mailCatcher.service.type "NodePort" }}
  Mail catcher:  node port {{ .Values.mailCatcher.service.nodePort | default "(assigned)" }} ({{ .Values.mailCatcher.kind }} web UI)
{{- else }}
  Mail catcher:  kubectl -n {{ .Release.Namespace }} port-forward svc/vigil-mail-catcher 8025:8025  then http://localhost:8025
{{- end }}
  Every alert email goes to the mail catcher (TLS on port 465 through stunnel); smtp.smarthost is ignored.
{{- else }}
  Alert emails go to {{ .Values.smtp.smarthost | default "(smtp.smarthost is not set: no email can be sent)" }} from {{ .Values.smtp.from }}.
{{- end }}

{{- if and (le ${ALERTMANAGER_REPLICAS_GO} 1) (not .Values.alertmanager.persistence.enabled) }}

WARNING: one Alertmanager replica without persistence: an upgrade or eviction that replaces its pod
forgets every silence and emails every firing alert again. Outside a laptop cluster set
alertmanager.replicas=2 (profile=production, where 2 is the default) or alertmanager.persistence.enabled=true.
{{- end }}

Monitor a service by applying a MonitoredService next to it:
  kubectl explain monitoredservice.spec
{{- if .Values.demoTarget.enabled }}
  kubectl -n {{ .Release.Namespace }} get monitoredservice vigil-demo-target
{{- end }}
`;
