# One image, one binary: run it as api, projector or webhook process by command.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/backbone ./cmd/backbone

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/backbone /usr/local/bin/backbone
COPY examples /examples
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/backbone"]
CMD ["serve"]
