variable "kubeconfig" {
  description = "Kubeconfig with the kind cluster's context."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "Context of the kind cluster (kind-<cluster name>)."
  type        = string
  default     = "kind-mlta"
}

variable "storage_uri" {
  description = "Lake root the operator and Ray jobs share, e.g. s3://mlta-lake/kind on a MinIO in the cluster."
  type        = string
  default     = "s3://mlta-lake/kind"
}

variable "image_tag" {
  description = "Tag of the side-loaded operator image."
  type        = string
  default     = "0.1.0"
}
