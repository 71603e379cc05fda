variable "namespace" {
  description = "Namespace of the mlta operator (created when create_namespace is true)."
  type        = string
  default     = "mlta-system"
}

variable "create_namespace" {
  description = "Create the operator's namespace (and KubeRay's) if it does not exist."
  type        = bool
  default     = true
}

variable "release_name" {
  description = "Helm release name of the mlta chart."
  type        = string
  default     = "mlta"
}

variable "chart_path" {
  description = "Path or repository chart name of the mlta chart; defaults to this repository's charts/mlta."
  type        = string
  default     = null
}

variable "chart_repository" {
  description = "Helm repository URL serving the mlta chart; null installs from chart_path."
  type        = string
  default     = null
}

variable "chart_version" {
  description = "mlta chart version when installing from a repository."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "Operator image repository."
  type        = string
  default     = "mlta/operator"
}

variable "image_tag" {
  description = "Operator image tag; empty uses the chart's appVersion."
  type        = string
  default     = ""
}

variable "environment" {
  description = "MLTA_ENV of the operator: development, testing or production."
  type        = string
  default     = "production"

  validation {
    condition     = contains(["development", "testing", "production"], var.environment)
    error_message = "environment must be development, testing or production."
  }
}

variable "backend" {
  description = "Engine backend: kuberay (RayJob/RayService objects) or ray (an existing Ray cluster's dashboard)."
  type        = string
  default     = "kuberay"

  validation {
    condition     = contains(["kuberay", "ray"], var.backend)
    error_message = "backend must be kuberay or ray."
  }
}

variable "ray_dashboard_url" {
  description = "Ray dashboard (Job Submission + Serve REST API) used when backend is ray."
  type        = string
  default     = "http://ray-head-svc:8265"
}

variable "storage_uri" {
  description = "Lake and model registry root: s3://bucket/prefix or file:///path."
  type        = string

  validation {
    condition     = can(regex("^(s3|file)://", var.storage_uri))
    error_message = "storage_uri must start with s3:// or file://."
  }
}

variable "storage_credentials_secret" {
  description = "Name of a Secret in the operator namespace whose keys (AWS_ACCESS_KEY_ID, ...) become the operator's environment; empty for none."
  type        = string
  default     = ""
}

variable "ray_image" {
  description = "Ray image of the RayJob/RayService pods the kuberay backend creates: the project's images/ray/Dockerfile (Ray + mlta workloads + learners)."
  type        = string
  default     = "mlta/ray:0.1.0"
}

variable "metrics_enabled" {
  description = "Create the operator's metrics Service and Prometheus scrape annotations."
  type        = bool
  default     = false
}

variable "operator_resources" {
  description = "Kubernetes resources (requests/limits) of the operator container."
  type = object({
    requests = map(string)
    limits   = map(string)
  })
  default = {
    requests = { cpu = "100m", memory = "256Mi" }
    limits   = { memory = "512Mi" }
  }
}

variable "extra_values" {
  description = "Additional values for the mlta chart, merged over the ones this module sets."
  type        = any
  default     = {}
}

variable "install_kuberay" {
  description = "Install the KubeRay operator (needed by backend kuberay unless the cluster already runs it)."
  type        = bool
  default     = true
}

variable "kuberay_namespace" {
  description = "Namespace of the KubeRay operator."
  type        = string
  default     = "kuberay-system"
}

variable "kuberay_chart_repository" {
  description = "Helm repository of the kuberay-operator chart."
  type        = string
  default     = "https://ray-project.github.io/kuberay-helm/"
}

variable "kuberay_chart_version" {
  description = "kuberay-operator chart version (the KubeRay release the operator's RayJob manifests target)."
  type        = string
  default     = "1.4.0"
}

variable "wait" {
  description = "Wait for the releases' workloads to become ready."
  type        = bool
  default     = true
}
