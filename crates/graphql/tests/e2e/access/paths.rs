//! The paths of the served schema: every field that returns an object, from each root
//! (`QueryRoot`, `SubscriptionRoot`, and `CommandResult`, what every mutation returns),
//! and the selection that reads one path with every scalar along it.

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use std::collections::{BTreeMap, BTreeSet};

/// One field of an object type: its name, the named type it returns (lists unwrapped),
/// and whether it takes an argument it cannot do without.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: String,
    pub required_args: bool,
}

/// The object types of the schema, by name, with their fields in schema order.
pub struct Schema {
    pub objects: BTreeMap<String, Vec<Field>>,
}

/// A path from a root type: `root` (the root field, e.g. `pupil`) then the edges below
/// it, each an object-valued field named by its coordinate (`Pupil.quizzes`).
#[derive(Clone, Debug)]
pub struct Path {
    pub root_type: String,
    pub root: String,
    /// (parent type, field, field's type) for every edge below the root field.
    pub edges: Vec<(String, String, String)>,
}

impl Path {
    /// `pupil.quizzes.pupil`
    pub fn dotted(&self) -> String {
        let mut out = self.root.clone();
        for (_, field, _) in &self.edges {
            out.push('.');
            out.push_str(field);
        }
        out
    }

    /// The coordinate of the last edge (`Pupil.quizzes`), or of the root field.
    pub fn coordinate(&self) -> String {
        match self.edges.last() {
            Some((parent, field, _)) => format!("{parent}.{field}"),
            None => format!("{}.{}", self.root_type, self.root),
        }
    }

    /// Whether the path goes through one of `types` (the root field's type included).
    pub fn through(&self, schema: &Schema, types: &[&str]) -> bool {
        let root_ty = schema
            .field(&self.root_type, &self.root)
            .map(|f| f.ty.clone());
        root_ty
            .iter()
            .chain(self.edges.iter().map(|(_, _, ty)| ty))
            .any(|ty| types.contains(&ty.as_str()))
    }
}

fn named(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named(inner),
    }
}

impl Schema {
    /// The served schema (`suivi_graphql::sdl()`), which must be the checked-in one.
    pub fn served() -> Schema {
        let sdl = suivi_graphql::sdl();
        let file = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql"),
        )
        .expect("crates/graphql/schema.graphql");
        assert_eq!(
            sdl, file,
            "the served schema is the checked-in schema.graphql"
        );
        let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
        let mut objects = BTreeMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = ty.node;
            let TypeKind::Object(object) = ty.kind else {
                continue;
            };
            let fields = object
                .fields
                .into_iter()
                .map(|f| Field {
                    name: f.node.name.node.to_string(),
                    ty: named(&f.node.ty.node),
                    required_args: f
                        .node
                        .arguments
                        .iter()
                        .any(|a| !a.node.ty.node.nullable && a.node.default_value.is_none()),
                })
                .collect();
            objects.insert(ty.name.node.to_string(), fields);
        }
        Schema { objects }
    }

    pub fn field(&self, ty: &str, name: &str) -> Option<&Field> {
        self.objects.get(ty)?.iter().find(|f| f.name == name)
    }

    fn is_object(&self, ty: &str) -> bool {
        self.objects.contains_key(ty)
    }

    /// Every path from the fields of `root_type`, depth first (a type already on the
    /// path is not entered again: the schema has no such cycle today, and the walk
    /// stays finite if one comes).
    pub fn paths(&self, root_type: &str) -> Vec<Path> {
        let mut out = Vec::new();
        for field in &self.objects[root_type] {
            if !self.is_object(&field.ty) {
                continue;
            }
            let path = Path {
                root_type: root_type.to_owned(),
                root: field.name.clone(),
                edges: Vec::new(),
            };
            let seen = BTreeSet::from([root_type.to_owned(), field.ty.clone()]);
            self.walk(&field.ty, path, &seen, &mut out);
        }
        out
    }

    fn walk(&self, ty: &str, path: Path, seen: &BTreeSet<String>, out: &mut Vec<Path>) {
        out.push(path.clone());
        for field in &self.objects[ty] {
            if !self.is_object(&field.ty) || seen.contains(&field.ty) {
                continue;
            }
            assert!(
                !field.required_args,
                "{ty}.{} takes a required argument: give the matrix a way to pass it",
                field.name
            );
            let mut next = path.clone();
            next.edges
                .push((ty.to_owned(), field.name.clone(), field.ty.clone()));
            let mut seen = seen.clone();
            seen.insert(field.ty.clone());
            self.walk(&field.ty, next, &seen, out);
        }
    }

    /// The scalar and enum fields of `ty` (those without a required argument).
    fn leaves(&self, ty: &str) -> Vec<&str> {
        self.objects[ty]
            .iter()
            .filter(|f| !self.is_object(&f.ty) && !f.required_args)
            .map(|f| f.name.as_str())
            .collect()
    }

    /// The selection below the root field that reads `path`: every scalar of every
    /// object along it, and the next edge.
    pub fn selection(&self, path: &Path) -> String {
        let root_ty = &self
            .field(&path.root_type, &path.root)
            .expect("the root field")
            .ty;
        let mut types = vec![root_ty.clone()];
        types.extend(path.edges.iter().map(|(_, _, ty)| ty.clone()));
        let mut out = String::new();
        for (i, ty) in types.iter().enumerate() {
            out.push_str("{ ");
            match self.leaves(ty) {
                // A type of objects only (`TeachingView`): something to select on the way.
                leaves if leaves.is_empty() => out.push_str("__typename"),
                leaves => out.push_str(&leaves.join(" ")),
            }
            if let Some((_, field, _)) = path.edges.get(i) {
                out.push(' ');
                out.push_str(field);
                out.push(' ');
            }
        }
        for _ in &types {
            out.push_str(" }");
        }
        out
    }
}

/// The nodes of `data` (the root field's value) at the edges of `path`, lists flattened.
pub fn nodes<'a>(value: &'a serde_json::Value, path: &Path) -> Vec<&'a serde_json::Value> {
    let mut nodes = flatten(value);
    for (_, field, _) in &path.edges {
        nodes = nodes.into_iter().flat_map(|n| flatten(&n[field])).collect();
    }
    nodes
}

fn flatten(value: &serde_json::Value) -> Vec<&serde_json::Value> {
    match value {
        serde_json::Value::Array(items) => items.iter().flat_map(flatten).collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other],
    }
}
